"""Unit checks of review findings: whitelabel messages, declared password minimum and
config schema, token error grammar, the redactor's bearer rule, hosted settings."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
from django.conf import settings
from pydantic import ValidationError

from actions.catalog.auth.auth_change_password import ChangePasswordIn
from actions.catalog.auth.auth_reset import ResetIn
from adminchannel.actions.tenants.tenants_config_set import TenantConfigSet
from audit.jsonlines import encode
from audit.summaries import scrub_text
from tenants.config import SCHEMA, user_message
from tenants.models import Tenant
from tenants.tokens import InvalidToken, token_decode

ROOT = Path(__file__).resolve().parents[2]


# --- 4. whitelabel messages ---------------------------------------------------------------


def test_user_message_is_the_tenants_override_or_none():
    tenant = Tenant(schema_name="acme", config={"messages": {"not_subscribed": "Ask Acme IT."}})
    assert user_message(tenant=tenant, code="not_subscribed") == "Ask Acme IT."
    assert user_message(tenant=tenant, code="forbidden") is None  # not overridden
    assert user_message(tenant=None, code="not_subscribed") is None
    assert user_message(tenant=Tenant(schema_name="b", config={}), code="forbidden") is None
    broken = Tenant(schema_name="c", config={"messages": {"forbidden": ""}})
    assert user_message(tenant=broken, code="forbidden") is None


def test_user_message_needs_no_query(django_assert_num_queries):
    tenant = Tenant(schema_name="acme", config={"messages": {"timeout": "Later, please."}})
    with django_assert_num_queries(0):
        assert user_message(tenant=tenant, code="timeout") == "Later, please."


# --- 8. the contract declares what the server demands ---------------------------------------


@pytest.mark.parametrize("model", [ChangePasswordIn, ResetIn])
def test_new_password_minimum_is_declared(model):
    field = model.model_json_schema()["properties"]["new_password"]
    assert field["minLength"] == 8 and field["x-secret"] is True
    others = {"current_password": "x"} if model is ChangePasswordIn else {"reset_token": "t"}
    with pytest.raises(ValidationError):
        model.model_validate({**others, "new_password": "short"})
    assert model.model_validate({**others, "new_password": "long-enough"})


def test_config_overrides_carry_the_tenant_config_schema():
    field = TenantConfigSet.model_json_schema()["properties"]["overrides"]
    assert field["additionalProperties"] is False
    assert field["properties"] == SCHEMA["properties"]
    assert "$id" not in field and field["x-schema-id"] == SCHEMA["$id"]


# --- 9. grammar ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind, message", [("refresh", "A refresh"), ("access", "An access")])
def test_token_kind_message_grammar(kind, message):
    other = "access" if kind == "refresh" else "refresh"
    token = jwt.encode(
        {"iss": settings.SWITCHBOARD["JWT_ISSUER"], "sub": "1", "jti": "j", "typ": other,
         "iat": 1, "exp": 4_000_000_000},
        settings.SECRET_KEY,
        algorithm="HS256",
    )  # fmt: skip
    with pytest.raises(InvalidToken, match=f"^{message} token is required.$"):
        token_decode(token, kind=kind)


# --- 10. the redactor -----------------------------------------------------------------------


def test_prose_about_bearer_tokens_is_not_redacted():
    assert scrub_text("This action needs a bearer token.") == "This action needs a bearer token."
    assert scrub_text("Send it as Bearer <token>.") == "Send it as Bearer <token>."
    assert scrub_text("a bearer credential is missing") == "a bearer credential is missing"


def test_bearer_token_values_are_still_redacted():
    opaque = "the header was Bearer abcdefABCDEF0123456789._-~+/= then"
    assert scrub_text(opaque) == "the header was Bearer [redacted] then"
    assert "abcdef" not in scrub_text("header was bearer 0123456789abcdefXYZ")


# --- 11. hosted settings ---------------------------------------------------------------------


@pytest.mark.parametrize("module", ["config.settings.hosted_test", "config.settings.hosted_live"])
def test_hosted_settings_require_the_broker_passwords(module):
    base = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_BROKER")}
    base["SWITCHBOARD_SECRET_KEY"] = secrets.token_urlsafe(64)  # a weak one is refused
    base["SWITCHBOARD_KEK_FILE"] = "/run/secrets/switchboard-kek"  # (test_connectors_framework.py)
    code = f"import {module} as s; print(s.CELERY_BROKER_URL)"

    def run(extra):
        return subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env={**base, **extra}, capture_output=True,
            text=True,
        )  # fmt: skip

    missing = run({"SWITCHBOARD_BROKER_USER_PASSWORD": "u"})
    assert missing.returncode != 0 and "SWITCHBOARD_BROKER_ADMIN_PASSWORD" in missing.stderr
    assert run({}).returncode != 0
    all_four = {
        "SWITCHBOARD_BROKER_USER_PASSWORD": "u-pw",
        "SWITCHBOARD_BROKER_ADMIN_PASSWORD": "a-pw",
        "SWITCHBOARD_BROKER_CLIENT_PASSWORD": "c-pw",
        "SWITCHBOARD_BROKER_OPERATOR_PASSWORD": "o-pw",
    }
    assert run({k: v for k, v in all_four.items() if "OPERATOR" not in k}).returncode != 0
    both = run(all_four)
    assert both.returncode == 0, both.stderr
    assert ":u-pw@" in both.stdout


def test_a_log_line_is_one_line_for_every_reader():
    # Fuzzed payload keys reach the action log's summaries; U+0085/U+2028/U+2029 are line
    # breaks to str.splitlines and to some log shippers, though JSON leaves them raw.
    entry = {"request": {"k\x85ey": "list:1"}, "message": "a\u2028b\u2029c\nd"}
    text = encode(entry).decode("utf-8")
    assert len(text.splitlines()) == 1 and json.loads(text) == entry


def test_a_config_refusal_does_not_echo_a_hostile_key():
    from tenants.config import ConfigInvalid, config_validate

    with pytest.raises(ConfigInvalid) as refused:
        config_validate({"<img src=x onerror=alert(1)>": {"x": 1}, "branding": {"{{7*7}}": 1}})
    text = repr(refused.value.errors)
    assert "<img" not in text and "{{7*7}}" not in text and "(key)" in text


def test_whitelabel_prose_is_checked_as_free_text():
    from actions.contract.registry import registry
    from actions.edge import guard

    prose = {
        "messages": {
            "rate_limited": "Slow down… 50% of limit & more; try again @ 5 o'clock",
            "forbidden": "Don't; select your plan from the menu",
        }
    }
    guard.inspect(registry.get("tenants.config.set"), {"overrides": prose})  # no refusal
