"""schemathesis against the OpenAPI description of the REST API (generated from the index),
through the Django WSGI app: no 5xx, no unhandled exception, every answer of the action
endpoints a valid response envelope. Both valid (positive) and invalid (negative) inputs;
bounded examples per operation so the suite stays fast."""

import json

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode

from actions.contract.index import openapi_document
from actions.contract.routes import ROUTES
from tests.envelopes import assert_envelope

EXAMPLES = {GenerationMode.POSITIVE: 50, GenerationMode.NEGATIVE: 25}
ROUTE_PATHS = {route.path for route in ROUTES}


def test_rest_api_answers_envelopes_and_never_5xx():
    from config.wsgi import application as django_app

    def application(environ, start_response):
        # Its own client address, so its hundreds of anonymous calls (the /auth routes,
        # webhooks) spend their own rate-limit bucket, not the rest of the suite's.
        environ["REMOTE_ADDR"] = "198.51.100.7"
        return django_app(environ, start_response)

    schema = schemathesis.openapi.from_dict(openapi_document())
    token = _own_member_token()
    counts: dict[str, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        for mode, examples in EXAMPLES.items():
            _fuzz(operation, label, mode, examples, application, token, counts)
    print("\n== schemathesis requests per operation:", counts, "total", sum(counts.values()))
    assert sum(counts.values()) >= 100


def _own_member_token() -> str:
    """A member of acme of the fuzzer's own: it sends `auth.change_password` with made-up
    current passwords, which count as failed sign-ins and would lock a shared demo user
    out of the rest of the suite."""
    from tenants.models import Membership, Tenant
    from tests.tenancy import bearer, make_user, unique

    user = make_user(f"{unique('fuzz')}@tenancy.test")
    acme = Tenant.objects.get(schema_name="acme")
    Membership.objects.create(user=user, tenant=acme, role="member")
    return bearer(user).removeprefix("Bearer ")


def _fuzz(operation, label, mode, examples, application, token, counts):
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        if operation.path in ROUTE_PATHS:
            # A resource route waits for its action by default; the fuzzer needs no answer
            # from a worker, only that the edge answers an envelope (202 when accepted).
            case.query = {**(case.query or {}), "wait": "0"}
        response = case.call(app=application, headers={"Authorization": f"Bearer {token}"})
        counts[label] = counts.get(label, 0) + 1
        if operation.path == "/health":
            assert response.status_code in (200, 503)  # 503 names what is down
            return
        assert response.status_code < 500, (label, response.status_code, response.text)
        body = json.loads(response.text)
        if operation.path != "/api/v1/index":
            assert_envelope(body)

    try:
        run()
    except Unsatisfiable:
        # No invalid input exists for an operation without parameters or body.
        assert mode == GenerationMode.NEGATIVE, label
