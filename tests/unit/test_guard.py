"""The guard's behaviour field by field (the corpora measure it in bulk)."""

import pytest

from actions.contract import ssrf
from actions.contract.registry import load_catalog
from actions.edge import guard
from actions.edge.guard import fields, rules
from actions.edge.ratelimit import limits_for
from tenants.config import DEFAULTS

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
        ("Ann\u061cSmith", "control_characters"),  # Arabic letter mark: a bidi control
        ("Ann\u2028Smith", "control_characters"),  # line separator
        ("Ann\u2029Smith", "control_characters"),  # paragraph separator
        ("Ann\U000e0041\U000e007f", "control_characters"),  # invisible tag characters
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
    payload = {"surface": "web", "cta_id": "x", "page": url}
    assert refused("analytics.cta.record", payload).category == "ssrf"


@pytest.mark.parametrize(
    "url",
    [
        # IDNA label separators: getaddrinfo resolves these as if written with dots
        "http://127\u30020\u30020\u30021/",
        "http://169\u3002254\u3002169\u3002254/latest/meta-data/",
        "http://metadata\u3002google\u3002internal/",
        "http://127\uff0e0\uff0e0\uff0e1/",
        "http://127\uff610\uff610\uff611/",
        "http://localhost%E3%80%82/",
        "http://10\u30020\u30020\u30021:8080/",
    ],
)
def test_ideographic_dots_do_not_hide_internal_hosts(url):
    assert ssrf.problem(url) in ("internal_address", "internal_host")
    assert refused("webhooks.ingest", webhook({"next": url})).category == "ssrf"


def test_non_ascii_hosts_are_judged_in_their_idna_form():
    assert ssrf.problem("https://m\u00fcnchen.de/") is None  # xn--mnchen-3ya.de
    assert ssrf.problem("http://a\ue000b.example/") == "malformed"  # not valid IDNA


@pytest.mark.parametrize("text", ["pg_sleep\u2478", "benchmark\u247d", "sleep\u2478"])
def test_the_plain_fast_path_sees_nfkc(text):
    # `⑸` is a word character, but NFKC makes `pg_sleep⑸` into `pg_sleep(5)`.
    assert not rules.is_plain(text)
    for payload in ({"name": text}, {"name": "Ann", "notes": text}):
        assert refused("leads.create", payload).category == "sql_injection"


@pytest.mark.parametrize(
    "url", ["https://example.com/a?b=c", "https://1.1.1.1/", "https://[2606:4700::1111]/"]
)
def test_url_fields_take_public_addresses(url):
    assert refused("analytics.cta.record", {"surface": "web", "cta_id": "x", "page": url}) is None


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


def test_rate_limits_come_from_the_tenant_config(settings):
    """Per tenant and per actor: the tenant config's `rate_limits` over its DEFAULTS (the
    one source of defaults); per address and anonymous-per-tenant: the settings."""
    settings.SWITCHBOARD = {
        **settings.SWITCHBOARD,
        "RATE_LIMITS": {
            "source": {"limit": 5, "window_s": 60},
            "anonymous": {"limit": 7, "window_s": 30},
        },
    }
    assert "tenant" not in settings.SWITCHBOARD["RATE_LIMITS"]

    def table(tenant, **kwargs):
        return {x.scope: (x.limit, x.window_s) for x in limits_for(tenant, **kwargs)}

    defaults = DEFAULTS["rate_limits"]
    default_pair = {
        "tenant": (defaults["per_tenant_per_minute"], 60),
        "actor": (defaults["per_actor_per_minute"], 60),
    }
    assert table(_Tenant({}), anonymous=False) == default_pair
    assert table(None, anonymous=False) == default_pair  # platform actions
    good = _Tenant({"rate_limits": {"per_actor_per_minute": 3}})
    assert table(good, anonymous=False) == {**default_pair, "actor": (3, 60)}
    bad = _Tenant({"rate_limits": {"per_actor_per_minute": "lots", "per_tenant_per_minute": 0}})
    assert table(bad, anonymous=False) == default_pair
    assert table(_Tenant(["not", "a", "dict"]), anonymous=False) == default_pair
    # Anonymous callers never count in the members' buckets.
    assert table(good, anonymous=True) == {"source": (5, 60)}
    assert table(good, anonymous=True, address=False) == {"anonymous": (7, 30)}


@pytest.mark.parametrize("value", ["x'or'1'='1@x.test", "a'or'a'='a@b.test"])
def test_a_quote_tautology_inside_an_email_is_refused(value):
    from actions.contract.errors import ActionError
    from actions.contract.registry import registry

    with pytest.raises(ActionError) as refused:
        guard.inspect(registry.get("leads.create"), {"name": "a", "email": value})
    assert refused.value.details["category"] == "sql_injection"


@pytest.mark.parametrize(
    "config",
    [
        {},
        None,
        {"rate_limits": {"per_actor_per_minute": 3}},
        {"rate_limits": {"per_actor_per_minute": 3, "extra": {"a": 1}}},
        {"rate_limits": None},
        {"rate_limits": "lots"},
        {"rate_limits": []},
        {"branding": {"brand_name": "X"}, "rate_limits": {"per_tenant_per_minute": 9}},
        {"locale": {"time_zone": "Europe/Paris"}},
    ],
)
def test_one_config_section_is_that_section_of_the_whole_merge(config):
    """config_section merges one section only (the rate limits read theirs per message):
    it must answer what config_effective's section is, and share nothing with DEFAULTS."""
    from tenants.config import config_effective, config_section

    tenant = _Tenant(config)
    for name in DEFAULTS:
        section = config_section(tenant=tenant, name=name)
        assert section == config_effective(tenant=tenant)[name]
        if isinstance(section, dict) and section:
            assert section is not DEFAULTS[name]
