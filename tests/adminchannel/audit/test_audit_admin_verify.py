"""audit.admin.verify: the admin audit chain's verdict, for developers."""

import pytest

from tests.admin_calls import DEV, MEMBER, admin

pytestmark = pytest.mark.usefixtures("workers")


def test_a_member_is_refused(api, tokens):
    status, body = admin(api, tokens, MEMBER, "audit.admin.verify", tenant="platform")
    assert (status, body["status"], body["error"]["code"]) == (403, "error", "forbidden")


def test_audit_admin_verify_reports_an_intact_chain(api, tokens):
    status, body = admin(api, tokens, DEV, "audit.admin.verify")
    assert status == 200 and body["status"] == "ok", body
    assert body["result"]["ok"] is True and body["result"]["first_bad_seq"] is None
    assert body["result"]["checked"] > 0
