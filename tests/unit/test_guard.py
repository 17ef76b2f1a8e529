"""The guard's behaviour field by field (the corpora measure it in bulk)."""

import pytest

from actions import guard
from actions.guard import fields, rules, ssrf
from actions.ratelimit import limits_for
from actions.registry import load_catalog

registry = load_catalog()


def refused(action: str, payload: dict) -> guard.Rejected | None:
    spec = registry.get(action)
    spec.input.model_validate(payload)  # the corpus of this file must fit step 5
    try:
        guard.inspect(spec, payload)
    except guard.Rejected as err:
        return err
    return None


def webhook(body: dict) -> dict:
    return {"workspace": "main", "path": "orders", "body": body}


def test_refusal_names_field_and_category_never_the_value():
    err = refused("leads.create", {"name": "Ann", "company": "x' OR '1'='1"})
    assert err.details == {"category": "sql_injection", "path": "payload/company"}
    assert "OR" not in err.message and "'1'" not in str(err.as_error())


def test_hostile_key_is_not_echoed_in_the_path():
    err = refused("webhooks.ingest", webhook({"a": {"$where": "1"}}))
    assert err.category == "nosql_injection"
    assert err.path == "payload/body/a/(key)"
    err = refused("webhooks.ingest", webhook({"__proto__": {"admin": True}}))
    assert (err.category, err.path) == ("prototype_pollution", "payload/body/(key)")


def test_django_lookup_keys_are_refused_cve_2025_64459():
    for key in ("_connector", "_negated", "password__startswith"):
        assert refused("webhooks.ingest", webhook({key: "x"})).category == "nosql_injection"


@pytest.mark.parametrize(
    "text",
    [
        "select the drop-off date from the list; then update the order",
        "WHERE name = 'Ann' AND status = 'won'",
        "Run `ls -la` first",
        "<b>bold</b> is fine in a note",
        "line one\nline two\ttabbed",
        "مرحبا \u2067RTL\u2069 isolate",
    ],
)
def test_free_text_allows_what_prose_and_snippets_contain(text):
    assert refused("leads.create", {"name": "Ann", "notes": text}) is None


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("<img src=x onerror=alert(1)>", "script_injection"),
        ("{{ cycler.__init__.__globals__ }}", "template_injection"),
        ("x'; DROP TABLE leads; --", "sql_injection"),
        ("ok\x00", "control_characters"),
        ("spoof\u202eexe.txt", "control_characters"),
    ],
)
def test_free_text_refuses_attacks(text, category):
    assert refused("leads.create", {"name": "Ann", "notes": text}).category == category


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("<b>Ann</b>", "script_injection"),
        ("{{ name }}", "template_injection"),
        ("../secret", "path_traversal"),
        ("Ann\nSmith", "control_characters"),
        ("Ann\u2066x\u2069", "control_characters"),
        ("a; whoami", "command_injection"),
    ],
)
def test_strict_fields_refuse_more(text, category):
    assert refused("leads.create", {"name": text}).category == category


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://0177.0.0.1/",
        "http://[::ffff:169.254.169.254]/",
        "http://[fd12::1]/",
        "http://[fe80::1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.google.internal/",
        "http://localhost.:8000/",
        "http://a@10.0.0.1/",
        "https://127.0.0.1.nip.io/",
    ],
)
def test_url_fields_refuse_internal_addresses(url):
    assert refused("analytics.cta.record", {"cta_id": "x", "page": url}).category == "ssrf"


@pytest.mark.parametrize(
    "url", ["https://example.com/a?b=c", "https://1.1.1.1/", "https://[2606:4700::1111]/"]
)
def test_url_fields_take_public_addresses(url):
    assert refused("analytics.cta.record", {"cta_id": "x", "page": url}) is None


def test_urls_in_open_objects_are_checked_schemes_included():
    for url in ("file:///etc/passwd", "gopher://x:70/", "http://10.0.0.2/hook"):
        assert refused("webhooks.ingest", webhook({"next": url})).category == "ssrf"
    assert ssrf.problem("ftp://example.com/") == "scheme"


def test_secrets_are_only_checked_for_control_characters():
    spec = registry.get("auth.login")
    payload = {"tenant": "acme", "email": "a@b.co", "password": "' OR 1=1 -- <script>"}
    if "tenant" not in spec.input.model_fields:
        payload.pop("tenant")
    guard.inspect(spec, payload)  # no exception


def test_bounds_on_open_objects():
    deep: dict = {}
    node = deep
    for _ in range(guard.MAX_DEPTH + 1):
        node["n"] = {}
        node = node["n"]
    assert refused("webhooks.ingest", webhook(deep)).category == "too_deep"
    many = {"items": list(range(guard.MAX_ITEMS + 1))}
    assert refused("webhooks.ingest", webhook(many)).category == "oversize"
    wide = {"w": {f"k{i}": i for i in range(guard.MAX_KEYS + 1)}}
    assert refused("webhooks.ingest", webhook(wide)).category == "oversize"


def test_envelope_identifiers_with_a_trailing_newline_are_refused():
    with pytest.raises(guard.Rejected) as info:
        guard.inspect_envelope({"id": "x", "action": "leads.create", "tenant": "acme\n"})
    assert info.value.path == "tenant"


def test_field_kinds_come_from_schema_markers():
    spec = registry.get("analytics.cta.record")
    schema, defs = spec.input_schema, spec.input_schema.get("$defs", {})
    assert fields.kind(fields.child(schema, defs, "page", ""), defs) == fields.Kind.URL
    assert fields.kind(fields.child(schema, defs, "cta_id", ""), defs) == fields.Kind.STRICT
    assert fields.child(schema, defs, "metadata", {}) is None or fields.is_open_object(
        fields.child(schema, defs, "metadata", {}), defs
    )
    assert set(rules.CATEGORIES) >= {"sql_injection", "ssrf", "prototype_pollution"}


class _Tenant:
    def __init__(self, config):
        self.config = config


def test_rate_limits_read_tenant_config_defensively(settings):
    settings.SWITCHBOARD = {
        **settings.SWITCHBOARD,
        "RATE_LIMITS": {
            "tenant": {"limit": 100, "window_s": 60},
            "actor": {"limit": 10, "window_s": 60},
            "source": {"limit": 5, "window_s": 60},
        },
    }
    good = _Tenant({"rate_limits": {"actor": {"limit": 3, "window_s": 10}}})
    bad = _Tenant({"rate_limits": {"actor": {"limit": "lots", "window_s": -1}, "tenant": 7}})
    mine = {x.scope: (x.limit, x.window_s) for x in limits_for(good, anonymous=True)}
    assert mine == {"tenant": (100, 60), "actor": (3, 10), "source": (5, 60)}
    theirs = {x.scope: (x.limit, x.window_s) for x in limits_for(bad, anonymous=False)}
    assert theirs == {"tenant": (100, 60), "actor": (10, 60)}
    assert limits_for(_Tenant(["not", "a", "dict"]), anonymous=False)[0].limit == 100
