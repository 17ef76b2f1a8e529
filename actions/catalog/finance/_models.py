"""Finance: invoices to leads; amounts are integer cents in an ISO 4217 currency (user channel).

Models shared by several actions of this domain."""

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from actions.catalog._common import Currency
from actions.contract.payloads import Email, FreeText, ObjectId, Payload, Result, ShortText

# Cents stay well inside JSON's exact integer range (2**53).
MAX_CENTS = 10**12
InvoiceStatus = Literal["draft", "issued", "paid", "overdue", "void"]


class InvoiceLineIn(Payload):
    description: ShortText
    quantity: int = Field(default=1, ge=1, le=1_000_000)
    unit_amount_cents: int = Field(ge=0, le=MAX_CENTS)
    tax_rate_bp: int = Field(default=0, ge=0, le=10_000)  # basis points: 2000 = 20 %


class InvoiceLine(InvoiceLineIn):
    amount_cents: int = Field(ge=0)  # quantity x unit amount, before tax


class Invoice(Result):
    id: ObjectId
    number: ShortText | None  # given when issued
    lead_id: ObjectId | None
    customer_name: ShortText
    customer_email: Email | None
    currency: Currency
    lines: list[InvoiceLine] = Field(max_length=100)
    subtotal_cents: int = Field(ge=0)
    tax_cents: int = Field(ge=0)
    total_cents: int = Field(ge=0)
    status: InvoiceStatus
    notes: FreeText | None
    issued_at: datetime | None
    due_date: date | None
    paid_at: datetime | None
    created_at: datetime
