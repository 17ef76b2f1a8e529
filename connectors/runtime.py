"""The gateway a handler on a worker reaches the connectors through (`ctx.connectors`),
and the call engine: DTO steps, retries with backoff and jitter, the trace, failures
turned into `connector_error` and filed in the central error log.

The worker's executor builds one `Gateway` per message. Nothing on the edge can: the
edge rooms do not import this package (lint-imports), and no client route leads here.
"""

import base64
import logging
import time
from datetime import UTC, datetime
from functools import cache
from typing import Any

import tenacity
from django.conf import settings
from django.db import connection, transaction
from pydantic import BaseModel, ValidationError

from actions import audit_trail as audit
from actions.contract.connectors import require_subscribed, subscriptions_of
from actions.contract.errors import ActionError, ErrorCode
from actions.contract.redaction import ALWAYS_SECRET, redact, secret_keys
from actions.contract.registry import registry
from config.cursors import number
from connectors import credentials as creds
from connectors.base import Call, Connector, ConnectorFailure, Failure
from connectors.catalog import CONNECTORS, PROVIDERS
from connectors.models import ConnectorTrace, TraceOutcome

log = logging.getLogger(__name__)


def trace_secret_keys(cls: type[Connector]) -> frozenset[str]:
    """The keys a trace of `cls` redacts: the always-secret names and every field its
    DTOs and config mark `x-secret`."""
    return _secret_keys(cls.key)


@cache
def _secret_keys(key: str) -> frozenset[str]:
    cls = CONNECTORS[key]
    keys = set(ALWAYS_SECRET)
    for model in (cls.config, cls.Request, cls.Outbound, cls.Inbound, cls.Response):
        keys |= secret_keys(model.model_json_schema())
    return frozenset(keys)


def step_data(cls: type[Connector], model: BaseModel) -> dict[str, Any]:
    return redact(model.model_dump(mode="json"), trace_secret_keys(cls))


def retry_policy() -> dict[str, float]:
    return settings.SWITCHBOARD["CONNECTOR_RETRY"]


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).decode()


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        offset = number(base64.urlsafe_b64decode(cursor.encode()).decode())
    except ValueError:  # not base64, or not UTF-8 inside
        offset = None
    if offset is None:
        raise ActionError(
            ErrorCode.VALIDATION_ERROR,
            "The cursor is not one this list gave.",
            details={"errors": [{"path": "payload/cursor", "reason": "unknown cursor"}]},
        )
    return offset


def page(queryset, *, limit: int, cursor: str | None) -> tuple[list, str | None]:
    start = _offset(cursor)
    rows = list(queryset[start : start + limit + 1])
    return rows[:limit], (_cursor(start + limit) if len(rows) > limit else None)


class Gateway:
    """`ctx.connectors` (actions.contract.connectors.ConnectorGateway) for one message."""

    def __init__(self, *, ctx, tenant, allowed: tuple[str, ...]) -> None:
        self.ctx = ctx
        self.tenant = tenant
        self.allowed = allowed  # the connectors the action lists in the index

    # --- calls ------------------------------------------------------------------------
    def call(self, connector: str, request: Any) -> Any:
        if connector not in self.allowed:
            raise RuntimeError(
                f"{self.ctx.action} calls connector {connector!r} but does not list it in the index"
            )
        if connection.in_atomic_block:
            # An outside call must not hold a transaction open, and its trace must be kept
            # when the action fails: such handlers are `@non_atomic`.
            raise RuntimeError(f"{self.ctx.action} calls a connector inside a transaction")
        require_subscribed(_Needs(self.ctx.action, (connector,)), self.tenant)
        cls = CONNECTORS[connector]
        settings_ = subscriptions_of(self.tenant)[connector]
        try:
            config = cls.config.model_validate(settings_.get("config") or {})
        except ValidationError:
            raise ActionError(
                ErrorCode.CONNECTOR_ERROR,
                f"The tenant's config of {connector} is not valid any more; subscribe again.",
                details={"connector": connector},
                retryable=False,
            ) from None
        secrets: dict[str, str] = {}
        credential_id = cls().credential_id(config)
        if credential_id and cls.provider:
            secrets = creds.credential_secrets(credential_id, provider=cls.provider)
        call = Call(
            config=config,
            secrets=secrets,
            # the tenant's timeout when its config sets one
            timeout_s=getattr(config, "timeout_s", None) or cls.timeout_s,
            message_id=self.ctx.message_id,
        )
        return run_call(cls, request, call, ctx=self.ctx)

    # --- the catalog and subscriptions -------------------------------------------------
    def catalog(self) -> list[dict[str, Any]]:
        subscribed = subscriptions_of(self.tenant)
        users: dict[str, list[str]] = {}
        for spec in registry.all():
            for key in spec.connectors:
                users.setdefault(key, []).append(spec.name)
        return [
            {
                **cls.describe(),
                "actions": sorted(set(users.get(key, []))),
                "subscribed": key in subscribed,
                "subscribed_at": (subscribed.get(key) or {}).get("subscribed_at"),
                "config": (subscribed.get(key) or {}).get("config"),
            }
            for key, cls in sorted(CONNECTORS.items())
        ]

    def _entry(self, connector: str) -> dict[str, Any]:
        for entry in self.catalog():
            if entry["key"] == connector:
                return entry
        raise ActionError(
            ErrorCode.NOT_FOUND, f"No connector {connector!r}.", details={"connector": connector}
        )

    def subscribe(self, connector: str, config: dict[str, Any]) -> dict[str, Any]:
        from tenants.models import Tenant

        cls = CONNECTORS.get(connector)
        if cls is None:
            raise self._missing(connector)
        try:
            valid = cls.config.model_validate(config).model_dump(mode="json")
        except ValidationError as exc:
            raise ActionError(
                ErrorCode.VALIDATION_ERROR,
                f"The config does not fit {connector}'s config schema.",
                details={
                    "errors": [
                        {
                            "path": "/".join(["payload", "config", *map(str, e["loc"])]),
                            "reason": e["msg"],
                        }
                        for e in exc.errors(include_input=False, include_url=False)[:20]
                    ]
                },
            ) from None
        if valid.get("credential_id") and cls.provider:
            creds.credential_secrets(valid["credential_id"], provider=cls.provider)  # it exists
        with transaction.atomic():
            tenant = Tenant.objects.select_for_update().get(pk=self.tenant.pk)
            subscriptions = dict(tenant.connector_subscriptions or {})
            at = (subscriptions.get(connector) or {}).get("subscribed_at") or datetime.now(
                UTC
            ).isoformat()
            subscriptions[connector] = {"subscribed_at": at, "config": valid}
            tenant.connector_subscriptions = subscriptions
            tenant.save(update_fields=["connector_subscriptions"])
        self.tenant = tenant
        return self._entry(connector)

    def unsubscribe(self, connector: str) -> dict[str, Any]:
        from tenants.models import Tenant

        if connector not in CONNECTORS:
            raise self._missing(connector)
        with transaction.atomic():
            tenant = Tenant.objects.select_for_update().get(pk=self.tenant.pk)
            subscriptions = dict(tenant.connector_subscriptions or {})
            subscriptions.pop(connector, None)
            tenant.connector_subscriptions = subscriptions
            tenant.save(update_fields=["connector_subscriptions"])
        self.tenant = tenant
        return self._entry(connector)

    @staticmethod
    def _missing(connector: str) -> ActionError:
        return ActionError(
            ErrorCode.NOT_FOUND, f"No connector {connector!r}.", details={"connector": connector}
        )

    # --- traces -------------------------------------------------------------------------
    def traces(
        self,
        *,
        limit: int = 50,
        cursor: str | None = None,
        connector: str | None = None,
        action: str | None = None,
        outcome: str | None = None,
        trace_id: str | None = None,
    ):
        query = ConnectorTrace.objects.order_by("-started_at", "-id")
        if connector:
            query = query.filter(connector=connector)
        if action:
            query = query.filter(action=action)
        if outcome:
            query = query.filter(outcome=outcome)
        if trace_id:
            query = query.filter(trace_id=trace_id)
        rows, next_cursor = page(query, limit=limit, cursor=cursor)
        return [trace_describe(r, steps=False) for r in rows], next_cursor

    def trace(self, trace_id: str) -> dict[str, Any]:
        row = ConnectorTrace.objects.filter(id=trace_id).first()
        if row is None:
            raise ActionError(ErrorCode.NOT_FOUND, "No such trace.", details={"id": trace_id})
        return trace_describe(row, steps=True)

    # --- providers and credentials ------------------------------------------------------
    def providers(self) -> list[dict[str, Any]]:
        return [p.describe() for _, p in sorted(PROVIDERS.items())]

    def credential_create(self, **fields: Any) -> dict[str, Any]:
        return creds.describe(creds.credential_create(**fields))

    def credentials(
        self,
        *,
        limit: int = 50,
        cursor: str | None = None,
        workspace_id: str | None = None,
        provider: str | None = None,
    ):
        from connectors.models import Credential

        query = Credential.objects.order_by("-created_at", "-id")
        if workspace_id:
            query = query.filter(workspace_id=workspace_id)
        if provider:
            query = query.filter(provider=provider)
        rows, next_cursor = page(query, limit=limit, cursor=cursor)
        return [creds.describe(r) for r in rows], next_cursor

    def credential(self, credential_id: str) -> dict[str, Any]:
        return creds.describe(creds.credential_get(credential_id))

    def credential_delete(self, credential_id: str) -> None:
        creds.credential_delete(credential_id)


class _Needs:
    """What require_subscribed reads of an ActionSpec, for one call."""

    def __init__(self, name: str, connectors: tuple[str, ...]) -> None:
        self.name, self.connectors = name, connectors


def trace_describe(row: ConnectorTrace, *, steps: bool) -> dict[str, Any]:
    described = {
        "id": row.id,
        "trace_id": row.trace_id,
        "action": row.action,
        "message_id": row.message_id,
        "connector": row.connector,
        "connector_version": row.connector_version,
        "outcome": row.outcome,
        "error": row.error,
        "attempts": len(row.attempts),
        "started_at": row.started_at,
        "duration_ms": row.duration_ms,
    }
    if steps:
        described |= {"steps": row.steps, "config": row.config, "attempt_log": row.attempts}
    return described


def run_call(cls: type[Connector], request: Any, call: Call, *, ctx) -> Any:
    """Request DTO -> outbound -> inbound -> response DTO, retried, traced."""
    connector = cls()
    started_at = datetime.now(UTC)
    t0 = time.monotonic()
    steps: list[dict[str, Any]] = []
    attempts: list[dict[str, Any]] = []
    failure: ConnectorFailure | None = None
    response = None

    def timed(name: str, fn, *args):
        t = time.monotonic()
        value = fn(*args)
        steps.append(
            {
                "step": name,
                "data": step_data(cls, value),
                "ms": round((time.monotonic() - t) * 1000, 2),
            }
        )
        return value

    try:
        request = cls.Request.model_validate(
            request if not isinstance(request, BaseModel) else request.model_dump()
        )
        steps.append({"step": "request", "data": step_data(cls, request), "ms": 0.0})
        outbound = timed("outbound", connector.outbound, request, call)
        inbound = _send_with_retries(connector, outbound, call, attempts)
        steps.append({"step": "inbound", "data": step_data(cls, inbound), "ms": attempts[-1]["ms"]})
        try:
            response = timed("response", connector.response, inbound, request)
        except ValidationError:
            raise ConnectorFailure(
                Failure.MALFORMED, "the answer does not make a response"
            ) from None
    except ConnectorFailure as exc:
        failure = exc
    except ValidationError:
        failure = ConnectorFailure(
            Failure.REFUSED, "the request does not fit the connector's request DTO"
        )
    error = None
    if failure is not None:
        error = {
            "code": ErrorCode.CONNECTOR_ERROR.value,
            "kind": failure.kind,
            "message": failure.message,
            "retryable": failure.retryable,
            "status": failure.status,
        }
    trace = ConnectorTrace.objects.create(
        trace_id=ctx.trace_id,
        action=ctx.action,
        message_id=ctx.message_id,
        connector=cls.key,
        connector_version=cls.version,
        steps=steps,
        config=redact(call.config.model_dump(mode="json"), trace_secret_keys(cls)),
        attempts=attempts,
        outcome=TraceOutcome.ERROR if failure else TraceOutcome.OK,
        error=error,
        started_at=started_at,
        duration_ms=int((time.monotonic() - t0) * 1000),
    )
    if failure is None:
        return response
    details = {
        "connector": cls.key,
        "connector_trace_id": trace.id,
        "kind": failure.kind,
        "attempts": len(attempts),
    }
    if failure.status is not None:
        details["status"] = failure.status
    audit.error_record(
        component=f"connector.{cls.key}",
        trace_id=ctx.trace_id,
        code=ErrorCode.CONNECTOR_ERROR,
        message=f"{cls.key}: {failure.message}",
        tenant=ctx.tenant,
        action=ctx.action,
        message_id=ctx.message_id,
        details=details,
    )
    raise ActionError(
        ErrorCode.CONNECTOR_ERROR,
        f"{cls.name}: {failure.message} (connector trace {trace.id}).",
        details=details,
        retryable=failure.retryable,
    )


def _send_with_retries(connector: Connector, outbound, call: Call, attempts: list) -> Any:
    policy = retry_policy()

    def attempt():
        t = time.monotonic()
        at = datetime.now(UTC).isoformat()
        try:
            inbound = connector.send(outbound, call)
        except ConnectorFailure as exc:
            attempts.append({"at": at, "ms": _ms(t), "error": exc.kind, "status": exc.status})
            raise
        attempts.append({"at": at, "ms": _ms(t), "error": None, "status": None})
        return inbound

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(int(policy["attempts"])),
        wait=tenacity.wait_exponential_jitter(
            multiplier=policy["initial_s"], max=policy["max_s"], jitter=policy["jitter_s"]
        ),
        retry=tenacity.retry_if_exception(
            lambda e: isinstance(e, ConnectorFailure) and e.retryable
        ),
        reraise=True,
    )
    return retrying(attempt)


def _ms(t: float) -> float:
    return round((time.monotonic() - t) * 1000, 2)
