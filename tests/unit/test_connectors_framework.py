"""The connector framework's pure parts: envelope encryption, the key ring, the gate,
the DTO steps and their redaction, the retry policy and the index entries."""

import base64
import os
import secrets
import subprocess
import sys

import pytest
from cryptography.exceptions import InvalidTag
from django.test import override_settings

from actions.contract.connectors import connector_entries, require_subscribed
from actions.contract.errors import ActionError
from actions.contract.registry import load_catalog
from adminchannel.actions.connectors._models import StateName
from connectors import crypto
from connectors.base import Call, ConnectorFailure, Failure
from connectors.builtin.http_webhook import HttpWebhook, WebhookConfig, WebhookRequest, signature
from connectors.builtin.sms_http import SmsConfig, SmsHttp, SmsInbound, SmsRequest
from connectors.catalog import CONNECTORS
from connectors.replay import differences
from connectors.runtime import step_data
from release.states import State
from tests.conftest import ROOT

registry = load_catalog()


@pytest.fixture
def key_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("SWITCHBOARD_KEK", raising=False)
    monkeypatch.setenv("SWITCHBOARD_KEK_FILE", str(tmp_path / "kek.key"))
    return tmp_path


def test_a_sealed_credential_opens_only_for_its_own_row_and_tenant(key_dir):
    sealed = crypto.seal({"api_key": "sk-123"}, schema="acme", credential_id="c1")
    assert b"sk-123" not in sealed.ciphertext + sealed.wrapped_key
    assert crypto.open_sealed(sealed, schema="acme", credential_id="c1") == {"api_key": "sk-123"}
    with pytest.raises(InvalidTag):
        crypto.open_sealed(sealed, schema="beta", credential_id="c1")
    with pytest.raises(InvalidTag):
        crypto.open_sealed(sealed, schema="acme", credential_id="c2")


def test_every_credential_gets_its_own_data_key(key_dir):
    one = crypto.seal({"k": "v"}, schema="s", credential_id="a")
    two = crypto.seal({"k": "v"}, schema="s", credential_id="a")
    assert one.wrapped_key != two.wrapped_key and one.ciphertext != two.ciphertext


def test_a_local_environment_makes_its_key_file_once_owner_only(key_dir):
    ring = crypto.keyring()
    path = key_dir / "kek.key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert crypto.keyring().current == ring.current


def test_a_hosted_environment_never_makes_a_key(key_dir):
    with override_settings(SWITCHBOARD_ENV="hosted_live"), pytest.raises(crypto.KekError):
        crypto.keyring()
    assert not (key_dir / "kek.key").exists()


def test_rewrapping_keeps_the_data_and_drops_the_old_key(key_dir):
    sealed = crypto.seal({"password": "pw"}, schema="s", credential_id="c")
    ring = crypto.keyring()
    new = os.urandom(32)
    wrapped, new_id = crypto.rewrap(sealed.wrapped_key, sealed.kek_id, ring=ring, target=new)
    (key_dir / "kek.key").write_text(base64.urlsafe_b64encode(new).decode())
    moved = crypto.Sealed(sealed.nonce, sealed.ciphertext, wrapped, new_id)
    assert crypto.open_sealed(moved, schema="s", credential_id="c") == {"password": "pw"}
    with pytest.raises(crypto.KekError):  # the old key is no longer in the ring
        crypto.open_sealed(sealed, schema="s", credential_id="c")


@pytest.mark.parametrize("module", ["config.settings.hosted_test", "config.settings.hosted_live"])
def test_hosted_settings_refuse_to_start_without_a_kek(module):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_KEK")}
    env |= {
        "SWITCHBOARD_SECRET_KEY": secrets.token_urlsafe(64),
        **{
            f"SWITCHBOARD_BROKER_{who}_PASSWORD": "pw"
            for who in ("USER", "ADMIN", "CLIENT", "OPERATOR")
        },
    }
    code = f"import {module}"
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode != 0 and "SWITCHBOARD_KEK" in run.stderr
    with_key = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**env, "SWITCHBOARD_KEK": "x"},
        capture_output=True, text=True,
    )  # fmt: skip
    assert with_key.returncode == 0, with_key.stderr


class _Tenant:
    def __init__(self, subscriptions):
        self.connector_subscriptions = subscriptions


def test_the_gate_names_the_missing_connector_and_passes_a_subscriber():
    spec = registry.get("messages.send")
    assert spec.connectors == ("sms_http",)
    with pytest.raises(ActionError) as refused:
        require_subscribed(spec, _Tenant({"smtp_email": {}}))
    assert refused.value.code == "not_subscribed"
    assert refused.value.details["connector"] == "sms_http"
    require_subscribed(spec, _Tenant({"sms_http": {"config": {}}}))
    require_subscribed(registry.get("leads.list"), None)  # no connector: nothing to check


def test_every_connector_an_action_lists_is_in_the_index_with_its_state():
    known = {e.key: e for e in connector_entries()}
    assert set(known) == set(CONNECTORS)
    for spec in registry.all():
        assert set(spec.connectors) <= set(known), spec.name
    assert all(e.state in {s.value for s in State} for e in known.values())
    assert set(StateName.__args__) == {s.value for s in State}  # type: ignore[attr-defined]


def _call(config, secrets=None):
    return Call(config=config, secrets=secrets or {}, timeout_s=1, message_id="m-1")


def test_the_sms_dtos_turn_a_request_into_the_providers_body_and_back():
    connector = SmsHttp()
    config = SmsConfig(url="https://sms.example.com/v1", sender="Acme", credential_id="c1")
    outbound = connector.outbound(SmsRequest(to="+4477001", text="hi"), _call(config))
    assert outbound.model_dump(by_alias=True) == {
        "from": "Acme", "to": "+4477001", "text": "hi", "reference": "m-1",
    }  # fmt: skip
    response = connector.response(
        SmsInbound(id="p1", status="queued"), SmsRequest(to="+4477001", text="hi")
    )
    assert response.provider_message_id == "p1"


def test_a_trace_step_hides_the_always_secret_names_and_what_the_dtos_mark_secret():
    from pydantic import Field

    from connectors.base import DTO
    from connectors.runtime import _secret_keys

    class Signed(DTO):
        body: str
        token: str  # always secret by name
        signature: str = Field(json_schema_extra={"x-secret": True})

    data = step_data(HttpWebhook, Signed(body="b", token="t", signature="s"))
    assert data["token"] == "[redacted]" and data["body"] == "b"
    assert data["signature"] == "s"  # not marked in HttpWebhook's own DTOs...
    _secret_keys.cache_clear()
    original = HttpWebhook.Outbound
    try:
        HttpWebhook.Outbound = Signed  # ...and hidden once they mark it
        assert (
            step_data(HttpWebhook, Signed(body="b", token="t", signature="s"))["signature"]
            == "[redacted]"
        )
    finally:
        HttpWebhook.Outbound = original
        _secret_keys.cache_clear()


def test_the_webhook_signature_is_an_hmac_of_timestamp_and_body():
    import hashlib
    import hmac

    expected = hmac.new(b"s3cret", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert signature("s3cret", "1700000000", b"{}") == f"sha256={expected}"
    outbound = HttpWebhook().outbound(
        WebhookRequest(event="lead.created", data={"id": 1}),
        _call(WebhookConfig(url="https://hooks.example.com/x")),
    )
    assert outbound.model_dump() == {"id": "m-1", "event": "lead.created", "data": {"id": 1}}


@pytest.mark.parametrize(
    ("kind", "retryable"),
    [
        (Failure.TIMEOUT, True),
        (Failure.UNREACHABLE, True),
        (Failure.SERVER, True),
        (Failure.CLIENT, False),
        (Failure.MALFORMED, False),
        (Failure.REFUSED, False),
    ],
)
def test_which_failures_are_retryable(kind, retryable):
    assert ConnectorFailure(kind, "x").retryable is retryable


def test_replay_differences_name_each_path():
    assert differences({"a": 1, "b": {"c": 2}}, {"a": 1, "b": {"c": 2}}) == []
    assert differences({"a": 1, "b": {"c": 2}}, {"a": 1, "b": {"c": 3}, "d": 0}) == [
        "/b/c: stored 2, replay 3",
        "/d: replay 0, stored has none",
    ]


def test_the_ssrf_allow_list_lets_through_exactly_the_spellings_it_names():
    from actions.contract.ssrf import problem

    assert problem("http://127.0.0.2:8025/v1") is None  # local_test's provider address
    for refused in ("http://127.0.0.1/", "http://127.2/", "http://[::ffff:127.0.0.2]/"):
        assert problem(refused) is not None, refused
    with override_settings(SWITCHBOARD={"SSRF_ALLOWED_HOSTS": []}):
        assert problem("http://127.0.0.2:8025/v1") == "internal_address"


def test_the_index_lists_each_connector_with_its_state_and_the_actions_using_it():
    from actions.contract.index import index_document

    connectors = {c["key"]: c for c in index_document()["connectors"]}
    assert connectors["sms_http"]["actions"] == ["messages.send"]
    assert connectors["sms_http"]["state"] == "under_dev"
    assert connectors["http_webhook"]["config_schema"]["properties"]["url"]
