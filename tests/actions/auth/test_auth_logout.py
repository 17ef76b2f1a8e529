"""auth.logout: every token of the account stops working."""

import pytest

from tenants.tokens import InvalidToken, actor_from_authorization, token_issue_pair
from tests.conftest import envelope
from tests.envelopes import assert_envelope
from tests.tenancy import make_tenant

pytestmark = pytest.mark.usefixtures("workers")


def test_logout_revokes_the_token_it_was_sent_with(api):
    t = make_tenant()
    token = token_issue_pair(user=t["member"])["access_token"]
    body = assert_envelope(api(envelope("auth.logout", tenant=t["slug"]), token=token).json())
    assert body["status"] == "ok", body
    with pytest.raises(InvalidToken, match="revoked"):
        actor_from_authorization("Bearer " + token)
