"""`audit.admin.verify`: Verify the admin audit log's hash chain; name the first tampered
entry."""

from datetime import datetime

from actions.contract.payloads import Empty
from actions.contract.registry import action
from adminchannel.actions.audit._models import ChainState
from tenants.roles import DEVELOPERS


class ChainVerdict(ChainState):
    verified_at: datetime


@action(
    "audit.admin.verify",
    channel="admin",
    scope="platform",
    roles=DEVELOPERS,
    summary="Verify the admin audit log's hash chain; name the first tampered entry.",
    input=Empty,
    output=ChainVerdict,
    state="under_dev",
)
def audit_admin_verify(ctx, payload: Empty) -> ChainVerdict:
    from django.utils import timezone

    from adminchannel.summaries import audit_chain_state

    return ChainVerdict.model_validate({**audit_chain_state(), "verified_at": timezone.now()})
