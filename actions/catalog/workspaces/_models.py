"""Workspaces: the tenant's containers of flows, credentials and runs (user channel).

Models shared by several actions of this domain."""

from datetime import datetime

from actions.contract.payloads import FreeText, ObjectId, Result, ShortText, Slug


class Workspace(Result):
    id: ObjectId
    slug: Slug  # fixed at creation: webhook addresses use it
    name: ShortText
    description: FreeText | None
    created_at: datetime
    updated_at: datetime
