"""The catalog's input and output models: strict, bounded, and marked where the pipeline looks.

Pure unit tests: they import the catalog modules directly and need no database.
"""

import re
from datetime import UTC, datetime
from typing import Any, get_args

import pytest
from pydantic import BaseModel, ValidationError

from actions.catalog import _common
from actions.catalog.analytics.analytics_cta_export import CtaExportRequest
from actions.catalog.analytics.analytics_cta_record import CtaRecord
from actions.catalog.credentials._models import Credential
from actions.catalog.credentials.credentials_create import CredentialCreate
from actions.catalog.finance.finance_invoices_create import InvoiceCreate
from actions.catalog.flows.flows_create import FlowCreate
from actions.catalog.flows.flows_update import FlowUpdate
from actions.catalog.leads.leads_create import LeadCreate
from actions.catalog.leads.leads_list import LeadQuery
from actions.catalog.leads.leads_update import LeadUpdate
from actions.catalog.messages.messages_send import MessageSend
from actions.catalog.notifications.notifications_mark_read import MarkRead
from actions.catalog.runs.runs_start import RunStart
from actions.catalog.webhooks.webhooks_ingest import WebhookIngest
from actions.contract.errors import ErrorCode
from actions.contract.registry import load_catalog
from adminchannel.actions.audit.audit_admin_query import ActorRole
from adminchannel.actions.demo.demo_reset import DemoReset
from adminchannel.actions.superadmin.superadmin_promote import Promote
from adminchannel.actions.tenants.tenants_create import TenantCreate
from release.states import State
from tenants.roles import MembershipRole, Role

# The domains of planned actions (auth and system belong elsewhere).
CATALOG_MODULES = [
    "activity", "analytics", "audit", "automations", "connectors", "conversations",
    "credentials", "dashboard", "demo", "finance", "flows", "leads", "logs", "messages",
    "node_templates", "notifications", "providers", "release", "runs", "superadmin",
    "tenants", "webhooks", "wellness", "workspaces",
]  # fmt: skip

# A valid payload for each of a handful of input models.
VALID: list[tuple[type[BaseModel], dict[str, Any]]] = [
    (LeadCreate, {"name": "Ada Lovelace", "email": "ada@example.com", "phone": "+44 20 1234"}),
    (LeadQuery, {"status": "won", "limit": 10}),
    (TenantCreate, {"slug": "acme", "name": "Acme", "primary_owner_email": "o@acme.io"}),
    (FlowCreate, {"workspace_id": "ws1", "title": "Onboarding", "status": "test"}),
    (RunStart, {"flow_id": "f1", "mode": "prod", "input": {"a": 1}}),
    (MessageSend, {"lead_id": "l1", "channel": "sms", "body": "Hello"}),
    (CredentialCreate, {"workspace_id": "w", "provider": "smtp", "name": "n", "data": {"k": "v"}}),
    (Promote, {"reason": "Investigating ticket 42"}),
    (WebhookIngest, {"workspace": "main", "path": "orders", "body": {}}),
    (DemoReset, {"confirm": "reset", "tenants": ["acme", "beta"]}),
    (CtaRecord, {"surface": "web", "cta_id": "hero", "page": "https://acme.io/"}),
    (
        InvoiceCreate,
        {
            "customer_name": "Bob",
            "currency": "EUR",
            "lines": [{"description": "Session", "unit_amount_cents": 5000}],
        },
    ),
]


def _refused(model: type[BaseModel], data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        model.model_validate(data)


@pytest.mark.parametrize(("model", "data"), VALID, ids=lambda v: getattr(v, "__name__", ""))
def test_valid_payload_accepted(model, data):
    model.model_validate(data)


@pytest.mark.parametrize(("model", "data"), VALID, ids=lambda v: getattr(v, "__name__", ""))
def test_unknown_key_refused(model, data):
    _refused(model, {**data, "is_admin": True})


@pytest.mark.parametrize(
    ("model", "data", "field", "limit"),
    [
        (LeadCreate, {"name": "x"}, "name", 200),
        (LeadCreate, {"name": "x"}, "notes", 20_000),
        (LeadCreate, {"name": "x"}, "company", 200),
        (TenantCreate, VALID[2][1], "name", 200),
        (Promote, {"reason": "long enough reason"}, "reason", 500),
        (MessageSend, VALID[5][1], "body", 20_000),
        (CredentialCreate, VALID[6][1], "name", 200),
    ],
)
def test_over_long_string_refused(model, data, field, limit):
    model.model_validate({**data, field: "a" * limit})
    _refused(model, {**data, field: "a" * (limit + 1)})


def test_secret_value_over_long_refused():
    _refused(CredentialCreate, {**VALID[6][1], "data": {"key": "s" * 1025}})


@pytest.mark.parametrize(
    ("model", "data", "field", "bad"),
    [
        (LeadCreate, {"name": "x"}, "status", "archived"),
        (LeadCreate, {"name": "x"}, "source", "Website"),
        (FlowCreate, VALID[3][1], "status", "live"),
        (RunStart, VALID[4][1], "mode", "production"),
        (MessageSend, VALID[5][1], "channel", "fax"),
        (DemoReset, VALID[9][1], "confirm", "yes"),
        (CtaExportRequest, {"since": "2025-01-01T00:00Z", "until": "2025-02-01T00:00Z"},
         "format", "xlsx"),
    ],
)  # fmt: skip
def test_enum_enforced(model, data, field, bad):
    _refused(model, {**data, field: bad})


def test_short_reason_refused():
    _refused(Promote, {"reason": "because"})


@pytest.mark.parametrize("minutes", [0, 481])
def test_promotion_expiry_bounded(minutes):
    _refused(Promote, {"reason": "Investigating ticket 42", "expires_in_minutes": minutes})


def test_lists_bounded():
    MarkRead(ids=["n1"] * 200)
    _refused(MarkRead, {"ids": ["n1"] * 201})
    _refused(MarkRead, {"ids": []})
    _refused(DemoReset, {"confirm": "reset", "tenants": [f"t{i:02}" for i in range(21)]})


def test_identifier_patterns_enforced():
    _refused(TenantCreate, {**VALID[2][1], "slug": "Acme; DROP"})
    _refused(LeadCreate, {"name": "x", "email": "not-an-email"})
    _refused(LeadQuery, {"owner_id": "../etc"})
    _refused(CtaRecord, {"surface": "web", "cta_id": "hero", "page": "javascript:alert(1)"})
    _refused(InvoiceCreate, {**VALID[11][1], "currency": "eur"})


def test_secret_fields_carry_x_secret():
    data = CredentialCreate.model_json_schema()["properties"]["data"]
    assert data["x-secret"] is True
    (values,) = data["patternProperties"].values()
    assert values["x-secret"] is True


def test_free_text_and_url_marked():
    assert LeadCreate.model_json_schema()["properties"]["notes"]["anyOf"][0]["x-free-text"]
    assert MessageSend.model_json_schema()["properties"]["body"]["x-free-text"]
    assert Promote.model_json_schema()["properties"]["reason"]["x-free-text"]
    assert CtaRecord.model_json_schema()["properties"]["page"]["anyOf"][0]["x-url"]


def test_credential_output_holds_no_secret_data():
    schema = Credential.model_json_schema()
    assert "data" not in schema["properties"]
    assert "x-secret" not in repr(schema)


def test_message_needs_exactly_one_recipient():
    _refused(MessageSend, {"channel": "sms", "body": "Hi"})
    _refused(MessageSend, {"channel": "sms", "body": "Hi", "lead_id": "l", "conversation_id": "c"})
    _refused(MessageSend, {"lead_id": "l", "channel": "sms", "body": ""})


def test_time_window_ordered_and_zoned():
    from actions.catalog._common import LogQuery

    LogQuery(since=datetime(2025, 1, 1, tzinfo=UTC), until=datetime(2025, 1, 2, tzinfo=UTC))
    _refused(LogQuery, {"since": "2025-01-02T00:00Z", "until": "2025-01-01T00:00Z"})
    _refused(LogQuery, {"since": "2025-01-01T00:00"})  # no zone


def test_update_leaves_out_or_clears():
    patch = LeadUpdate(id="l1", notes=None)
    assert patch.model_dump(exclude_unset=True) == {"id": "l1", "notes": None}
    _refused(LeadUpdate, {"id": "l1", "name": None})  # a lead always has a name
    _refused(FlowUpdate, {"id": "f1", "status": None})
    assert "name" not in LeadUpdate.model_json_schema()["required"]


def test_vocabularies_mirror_the_platform_enums():
    # The Literals are written out (a type checker cannot read one built at run time);
    # each must stay equal to the enum it spells.
    assert set(get_args(_common.ActionState)) == {s.value for s in State}
    assert set(get_args(_common.ErrorCodeName)) == {c.value for c in ErrorCode}
    assert set(get_args(_common.TenantRole)) == set(MembershipRole.values)
    assert set(get_args(ActorRole)) == {r.value for r in Role} - {
        Role.ANONYMOUS.value,
        Role.AUTHENTICATED.value,
    }


# --- every planned action of the catalog -------------------------------------------------

PLANNED = [s for s in load_catalog().all() if s.domain in CATALOG_MODULES]
# Shapes of actions.contract.payloads that are not ours to bound.
FOREIGN = {"PageInfo", "Deleted"}
UNBOUNDED_QUANTIFIER = re.compile(r"[*+]|\{\d+,\}")


def _unbounded(schema: Any, path: str = "") -> list[str]:
    """Paths of strings, arrays and maps in a JSON Schema that have no upper bound."""
    found: list[str] = []
    if isinstance(schema, dict):
        kind = schema.get("type")
        if kind == "string" and not (
            "maxLength" in schema
            or "enum" in schema
            or "const" in schema
            or schema.get("format") in {"date-time", "date", "uuid"}
            or ("pattern" in schema and not UNBOUNDED_QUANTIFIER.search(schema["pattern"]))
        ):
            found.append(path)
        if kind == "array" and "maxItems" not in schema:
            found.append(path)
        if kind == "object" and schema.get("additionalProperties", False) is not False:
            if "maxProperties" not in schema:
                found.append(path)
        for key, value in schema.items():
            if key == "$defs":
                value = {k: v for k, v in value.items() if k not in FOREIGN}
            found += _unbounded(value, f"{path}/{key}")
    elif isinstance(schema, list):
        for i, value in enumerate(schema):
            found += _unbounded(value, f"{path}/{i}")
    return found


def test_all_planned_actions_declared():
    # 66 planned + tenants.invitations.accept (consent to join) + audit.admin.verify
    # + connectors.traces.list|get
    assert len(PLANNED) == 70
    # Some are real by now (tenancy, audit, logs); a dummy is exactly one without handler.
    assert all(s.todo == (s.state == State.DUMMY) for s in PLANNED)


@pytest.mark.parametrize("spec", PLANNED, ids=lambda s: s.name)
def test_schemas_bounded_and_strict(spec):
    for schema in (spec.input_schema, spec.output_schema):
        assert schema["additionalProperties"] is False
        if schema["title"] not in FOREIGN:
            assert _unbounded(schema) == []
