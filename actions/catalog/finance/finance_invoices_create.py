"""`finance.invoices.create`: Create an invoice as a draft, or issue it at once."""

from datetime import date

from pydantic import Field

from actions.catalog._common import Currency
from actions.catalog.finance._models import Invoice, InvoiceLineIn
from actions.contract.payloads import Email, FreeText, ObjectId, Payload, ShortText
from actions.contract.registry import dummy
from tenants.roles import MEMBERS


class InvoiceCreate(Payload):
    lead_id: ObjectId | None = None
    customer_name: ShortText
    customer_email: Email | None = None
    currency: Currency
    lines: list[InvoiceLineIn] = Field(min_length=1, max_length=100)
    due_date: date | None = None
    notes: FreeText | None = None
    issue: bool = False  # False: keep as a draft; True: number it and issue it now


dummy(  # TODO
    "finance.invoices.create",
    channel="user",
    roles=MEMBERS,
    summary="Create an invoice as a draft, or issue it at once.",
    input=InvoiceCreate,
    output=Invoice,
)
