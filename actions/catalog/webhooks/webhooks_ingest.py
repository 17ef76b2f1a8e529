"""`webhooks.ingest`: Take an event posted to a workspace webhook and start the flows listening."""

from typing import Annotated

from pydantic import StringConstraints

from actions.contract.payloads import JsonObject, ObjectId, Payload, Result, Slug
from actions.contract.registry import dummy
from tenants.roles import PUBLIC

CorrelationKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]


class WebhookIngest(Payload):
    """An event for the endpoint `workspace/path`; the same `correlation_key` is taken once."""

    workspace: Slug
    path: Slug
    correlation_key: CorrelationKey | None = None
    body: JsonObject


class WebhookAccepted(Result):
    accepted: bool  # False: no enabled production flow listens on this endpoint
    run_id: ObjectId | None  # the run the event started, if any
    duplicate: bool  # the correlation key was seen before: nothing new started


dummy(  # TODO
    "webhooks.ingest",
    channel="user",
    roles=PUBLIC,
    summary="Take an event posted to a workspace webhook and start the flows listening.",
    input=WebhookIngest,
    output=WebhookAccepted,
)
