"""system.index: the index, as an action."""

import pytest

from tests.conftest import envelope

pytestmark = pytest.mark.usefixtures("workers")


def test_system_index_is_a_real_action(api, tokens):
    index = api(envelope("system.index"), token=tokens["member@acme.test"]).json()
    names = {entry["name"] for entry in index["result"]["actions"]}
    assert {"auth.login", "leads.create", "tenants.create"} <= names
    connectors = {c["key"]: c["actions"] for c in index["result"]["connectors"]}
    assert connectors["sms_http"] == ["messages.send"]
