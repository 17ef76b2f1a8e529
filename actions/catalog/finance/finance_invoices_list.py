"""`finance.invoices.list`: List invoices, newest first."""

from actions.catalog._common import ListResult, TimeWindow
from actions.catalog.finance._models import Invoice, InvoiceStatus
from actions.contract.payloads import ObjectId, Page
from actions.contract.registry import dummy
from tenants.roles import MEMBERS


class InvoiceQuery(Page, TimeWindow):  # the window applies to issue dates
    status: InvoiceStatus | None = None
    lead_id: ObjectId | None = None


class InvoiceList(ListResult[Invoice]):
    pass


dummy(  # TODO
    "finance.invoices.list",
    channel="user",
    roles=MEMBERS,
    summary="List invoices, newest first.",
    input=InvoiceQuery,
    output=InvoiceList,
)
