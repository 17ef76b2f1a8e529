"""Documents generated from the index: the served index, the exported contract files
(JSON Schemas for a front end), OpenAPI for REST and AsyncAPI for the AMQP channels."""

import functools
import json
from pathlib import Path
from typing import Any

from django.conf import settings
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from actions.contract.connectors import connector_entries
from actions.contract.envelope import SCHEMA_DIR
from actions.contract.errors import ERROR_TABLE
from actions.contract.registry import Scope, registry
from actions.contract.routes import by_path
from config.queues import ingress_name
from release import runtime


def index_document() -> dict:
    return {
        "api": "1",
        "environment": settings.SWITCHBOARD_ENV,
        "error_codes": [code.value for code in ERROR_TABLE],
        "actions": [
            {
                **spec.describe(),
                "released": runtime.is_released(spec),
            }
            for spec in registry.all()
        ],
        # The connectors (docs/connectors.md), each with its state and the actions that
        # use it; reachable from actions on a worker only, never from a client.
        "connectors": [
            entry.describe(
                actions=sorted({s.name for s in registry.all() if entry.key in s.connectors})
            )
            for entry in connector_entries()
        ],
    }


def _envelope_schema(kind: str) -> dict:
    return json.loads((SCHEMA_DIR / f"envelope.{kind}.json").read_text())


# The two public GET documents, declared so that clients and generators can type them.
# Entries may gain fields (forward compatible); the listed ones are always there.
_STRINGS = {"type": "array", "items": {"type": "string"}}
INDEX_SCHEMA: dict[str, Any] = {
    "title": "IndexDocument",
    "type": "object",
    "required": ["api", "environment", "error_codes", "actions"],
    "properties": {
        "api": {"type": "string"},
        "environment": {"type": "string"},
        "error_codes": _STRINGS,
        "actions": {
            "type": "array",
            "items": {
                "title": "IndexEntry",
                "type": "object",
                "required": [
                    "name", "version", "channel", "scope", "summary", "input_schema",
                    "output_schema", "roles", "connectors", "idempotent", "timeout_s",
                    "queue", "state", "todo", "released", "routes",
                ],
                "properties": {
                    "name": {"type": "string"},
                    "version": {"type": "integer"},
                    "channel": {"type": "string", "enum": ["user", "admin"]},
                    "scope": {"type": "string", "enum": ["tenant", "platform", "account"]},
                    "summary": {"type": "string"},
                    "input_schema": {"type": "object", "additionalProperties": True},
                    "output_schema": {"type": "object", "additionalProperties": True},
                    "roles": _STRINGS,
                    "connectors": _STRINGS,
                    "idempotent": {"type": "boolean"},
                    "timeout_s": {"type": "integer"},
                    "queue": {"type": "string"},
                    "state": {"type": "string"},
                    "todo": {"type": "boolean"},
                    "released": {"type": "boolean"},
                    "routes": {
                        "type": "array",
                        "items": {
                            "title": "IndexRoute",
                            "type": "object",
                            "required": ["method", "path"],
                            "properties": {
                                "method": {"type": "string"},
                                "path": {"type": "string"},
                            },
                        },
                    },
                },
                "additionalProperties": True,
            },
        },
    },
}  # fmt: skip
HEALTH_SCHEMA: dict[str, Any] = {
    "title": "HealthReport",
    "type": "object",
    "required": ["status", "failing", "environment", "parts"],
    "properties": {
        "status": {"type": "string", "enum": ["ok", "degraded"]},
        "failing": _STRINGS,
        "environment": {"type": "string"},
        "parts": {
            "type": "object",
            "additionalProperties": {
                "title": "HealthPart",
                "type": "object",
                "required": ["ok"],
                "properties": {
                    "ok": {"type": "boolean"},
                    "ms": {"type": "number"},
                    "error": {"type": "string"},
                },
                "additionalProperties": True,
            },
        },
    },
}
JSON_SCHEMA = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_BASE = "https://switchboard.local/contract/"


def _request_variants() -> dict[str, dict]:
    """One request schema per action, by component name: the envelope with `action` and
    `payload` fixed. Written out whole rather than as `allOf` the envelope, so that code
    generators make one typed class per action."""
    names = _model_names()
    envelope_schema = _component(_envelope_schema("request"), "RequestEnvelope")
    variants = {}
    for spec in registry.all():
        name = _class_name(spec, "Request")
        properties = {
            **envelope_schema["properties"],
            "action": {"type": "string", "const": spec.name},
            "payload": {"$ref": f"#/components/schemas/{names[spec.input]}"},
        }
        variants[name] = {
            **envelope_schema,
            "title": name,
            "description": f"{spec.name} v{spec.version}: {spec.summary}",
            "properties": properties,
            "required": sorted({*envelope_schema.get("required", []), "action", "payload"}),
            "x-channel": spec.channel.value,
        }
    return variants


def _id(spec) -> str:
    return f"{spec.name}.v{spec.version}"


def _class_name(spec, suffix: str) -> str:
    """`leads.create` v1 -> `LeadsCreateV1Request`: a unique, generator-friendly title."""
    words = spec.name.replace("_", ".").split(".")
    return "".join(word.capitalize() for word in words) + f"V{spec.version}{suffix}"


@functools.cache
def _model_schemas() -> tuple[dict[type[BaseModel], str], dict[str, dict]]:
    """Every action model in one namespace: pydantic names each model once (qualifying
    two classes of the same name), and each component's title is its unique name, so
    that code generators make one class per component."""
    models = []
    for spec in registry.all():
        for model in (spec.input, spec.output):
            if model not in models:
                models.append(model)
    refs, top = models_json_schema(
        [(model, "validation") for model in models],
        ref_template="#/components/schemas/{model}",
    )
    defs = top.get("$defs", {})
    for name, definition in defs.items():
        definition["title"] = name
    names = {model: refs[(model, "validation")]["$ref"].rsplit("/", 1)[1] for model in models}
    return names, defs


def _model_names() -> dict[type[BaseModel], str]:
    return _model_schemas()[0]


def _components() -> dict:
    schemas = {
        "RequestEnvelope": _component(_envelope_schema("request"), "RequestEnvelope"),
        "ResponseEnvelope": _component(_envelope_schema("response"), "ResponseEnvelope"),
        "IndexDocument": INDEX_SCHEMA,
        "HealthReport": HEALTH_SCHEMA,
    }
    schemas.update(json.loads(json.dumps(_model_schemas()[1])))
    schemas.update(_request_variants())
    return schemas


def _component(schema: dict, title: str) -> dict:
    """A root schema file as an OpenAPI component: no `$schema`/`$id` inside a document."""
    schema = {k: v for k, v in schema.items() if k not in ("$schema", "$id")}
    return {**schema, "title": title}


def _schema_file(schema: dict, relative: str) -> dict:
    """A published schema file: says its dialect and its own address."""
    return {"$schema": JSON_SCHEMA, "$id": SCHEMA_BASE + relative, **schema}


def _present(schema: dict) -> dict:
    """A field's schema when a value is there (a path segment): without null or default."""
    options = [o for o in schema.get("anyOf", []) if o.get("type") != "null"]
    if len(options) == 1:
        schema = {**options[0], **{k: v for k, v in schema.items() if k == "title"}}
    return {k: v for k, v in schema.items() if k != "default"}


def _route_paths(responses: dict) -> dict:
    """The resource routes (actions/contract/routes.py), each an operation of its action."""
    names = _model_names()
    paths: dict[str, dict] = {}
    for path, routes in by_path().items():
        operations = {}
        for route in routes:
            if route.action not in registry:
                continue  # left out of a built artifact
            spec = registry.get(route.action)
            properties = spec.input_schema.get("properties", {})
            required = set(spec.input_schema.get("required", []))
            parameters = [
                {"name": name, "in": "path", "required": True, "schema": _present(properties[name])}
                for name in route.params
            ]
            if not route.reads_body:
                parameters += [
                    {"name": name, "in": "query", "required": name in required, "schema": schema}
                    for name, schema in properties.items()
                    if name not in route.params
                ]
            parameters += [
                {
                    "name": "X-Tenant",
                    "in": "header",
                    "required": spec.scope == Scope.TENANT,
                    "description": "The tenant's slug (absent: `platform`).",
                    "schema": {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,39}$"},
                },
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "description": "The envelope id (a UUID): a repeat answers the first result.",
                    "schema": {"type": "string", "format": "uuid"},
                },
            ]
            operation: dict[str, Any] = {
                "summary": spec.summary,
                "description": f"Runs `{spec.name}` v{spec.version}; answers its envelope.",
                "operationId": _class_name(spec, "")[0].lower() + _class_name(spec, "")[1:],
                "tags": [spec.name.split(".")[0]],
                "parameters": parameters,
                "responses": responses,
            }
            if "anonymous" in spec.roles:
                operation["security"] = [{}]
            if route.reads_body:
                body = (
                    properties[route.body_field]
                    if route.body_field
                    else {"$ref": f"#/components/schemas/{names[spec.input]}"}
                )
                operation["requestBody"] = {
                    "required": bool(route.body_field) or bool(required - set(route.params)),
                    "content": {"application/json": {"schema": body}},
                }
            operations[route.method.lower()] = operation
        if operations:
            paths[path] = operations
    return paths


def _document(description: str, component: str) -> dict:
    schema = {"$ref": f"#/components/schemas/{component}"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def openapi_document() -> dict:
    envelope_ref = {"$ref": "#/components/schemas/ResponseEnvelope"}
    answer = {
        "description": "A response envelope",
        "content": {"application/json": {"schema": envelope_ref}},
    }
    # Every status an envelope can carry (actions.contract.errors.ERROR_TABLE, plus 413 and 405).
    statuses = sorted({200, 202, 405, 413} | {status for status, _, _ in ERROR_TABLE.values()})
    post_responses = {str(code): answer for code in statuses}

    def post(channel: str, summary: str) -> dict:
        return {
            "post": {
                "summary": summary,
                "operationId": f"{channel}ActionSubmit",
                "parameters": [
                    {
                        "name": "wait",
                        "in": "query",
                        "required": False,
                        "schema": {
                            "type": "number",
                            "minimum": 0,
                            "maximum": settings.SWITCHBOARD["MAX_WAIT_SECONDS"],
                        },
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "oneOf": [
                                    {"$ref": f"#/components/schemas/{name}"}
                                    for name, variant in _request_variants().items()
                                    if variant["x-channel"] == channel
                                ]
                            }
                        }
                    },
                },
                "responses": post_responses,
            }
        }

    def get(channel: str) -> dict:
        return {
            "get": {
                "summary": f"The current response envelope of a {channel}-channel message.",
                "operationId": f"{channel}ActionGet",
                "parameters": [
                    {
                        "name": "record_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "format": "uuid"},
                    },
                    {
                        "name": "tenant",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,39}$"},
                    },
                ],
                # A finished record answers with its own error's status.
                "responses": post_responses,
            }
        }

    paths = {
        "/api/v1/actions": post("user", "Send a user-channel action message."),
        "/api/v1/actions/{record_id}": get("user"),
        "/api/v1/admin/actions": post("admin", "Send an admin-channel action message."),
        "/api/v1/admin/actions/{record_id}": get("admin"),
        "/api/v1/index": {
            "get": {
                "summary": "The index.",
                "operationId": "index",
                "security": [{}],
                "responses": {"200": _document("The index", "IndexDocument")},
            }
        },
        "/health": {
            "get": {
                "summary": "Health.",
                "operationId": "health",
                "security": [{}],
                "responses": {
                    "200": _document("All parts up", "HealthReport"),
                    "503": _document("A part is down", "HealthReport"),
                },
            }
        },
    }
    paths.update(_route_paths(post_responses))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Switchboard message API",
            "version": "1",
            "description": "Generated from the index; see docs/message-api.md.",
        },
        "components": {
            "schemas": _components(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
        # Relative: the reference page served by a Switchboard tries its own host.
        "servers": [{"url": "/", "description": "this Switchboard (`make run`: :8000)"}],
        "security": [{"bearer": []}, {}],
        "paths": paths,
    }


# AMQP message properties as AsyncAPI states them (the runtime expression names the
# property; pika sets it as `properties.correlation_id` / `properties.reply_to`).
_CORRELATION = {
    "description": "AMQP property `correlation_id`, echoed on the reply.",
    "location": "$message.header#/correlation_id",
}
_REQUEST_HEADERS = {
    "type": "object",
    "properties": {
        "authorization": {
            "type": "string",
            "pattern": "^Bearer [A-Za-z0-9_.-]+$",
            "description": "`Bearer <jwt>` from auth.login; absent for anonymous actions.",
        },
        "correlation_id": {"type": "string", "maxLength": 200},
        "reply_to": {
            "type": "string",
            "const": "amq.rabbitmq.reply-to",
            "description": "Direct reply-to: the broker binds the reply to the sender.",
        },
    },
}


def asyncapi_document() -> dict:
    channels: dict[str, dict[str, Any]] = {}
    operations: dict[str, dict[str, Any]] = {}
    messages: dict[str, dict[str, Any]] = {
        "ResponseEnvelope": {
            "name": "response",
            "contentType": "application/json",
            "correlationId": _CORRELATION,
            "payload": {"$ref": "#/components/schemas/ResponseEnvelope"},
        }
    }
    for channel in ("user", "admin"):
        keys = []
        for spec in registry.all():
            if spec.channel != channel:
                continue
            key = _class_name(spec, "")
            keys.append(key)
            messages[key] = {
                "name": spec.name,
                "title": f"{spec.name} v{spec.version}",
                "summary": spec.summary,
                "contentType": "application/json",
                "headers": _REQUEST_HEADERS,
                "correlationId": _CORRELATION,
                "payload": {"$ref": f"#/components/schemas/{_class_name(spec, 'Request')}"},
                "bindings": {"amqp": {"messageType": spec.name}},
            }
        channels[f"ingress.{channel}"] = {
            "address": ingress_name(channel),
            "description": "Publish a request envelope here (topic exchange; routing key = "
            "action name; header `authorization: Bearer <jwt>`; set correlation_id and "
            "reply_to `amq.rabbitmq.reply-to`, direct reply-to: the only reply address).",
            "messages": {key: {"$ref": f"#/components/messages/{key}"} for key in keys},
            "bindings": {
                "amqp": {
                    "is": "routingKey",
                    "exchange": {
                        "name": ingress_name(channel),
                        "type": "topic",
                        "durable": True,
                    },
                }
            },
        }
        operations[f"{channel}Send"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/ingress.{channel}"},
            "messages": [{"$ref": f"#/channels/ingress.{channel}/messages/{key}"} for key in keys],
            "reply": {
                "address": {
                    "description": "The request's `reply_to` property.",
                    "location": "$message.header#/reply_to",
                },
                "channel": {"$ref": "#/channels/reply"},
                "messages": [{"$ref": "#/channels/reply/messages/response"}],
            },
        }
    channels["reply"] = {
        "address": None,
        "description": "Direct reply-to (amq.rabbitmq.reply-to) of the sending channel.",
        "messages": {"response": {"$ref": "#/components/messages/ResponseEnvelope"}},
    }
    operations["receiveReply"] = {
        "action": "receive",
        "channel": {"$ref": "#/channels/reply"},
        "messages": [{"$ref": "#/channels/reply/messages/response"}],
    }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Switchboard AMQP ingress", "version": "1"},
        "servers": {
            "local": {
                "host": "localhost:5672",
                "pathname": "/switchboard",
                "protocol": "amqp",
                "description": "`make run`: vhost `switchboard`. Log in as `switchboard_client` "
                "(user channel) or `switchboard_operator` (both channels); see "
                "docs/operations.md for their passwords.",
                "security": [{"$ref": "#/components/securitySchemes/broker"}],
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": _components(),
            "securitySchemes": {
                "broker": {"type": "userPassword", "description": "RabbitMQ user and password"}
            },
            "messages": messages,
        },
    }


def contract_files() -> dict[str, dict]:
    """Every file of the exported contract, by relative path."""
    index = index_document()
    index.pop("environment")
    for entry in index["actions"]:
        entry.pop("released")
    files = {
        "index.json": index,
        "envelope.request.json": _envelope_schema("request"),
        "envelope.response.json": _envelope_schema("response"),
        "openapi.json": openapi_document(),
        "asyncapi.json": asyncapi_document(),
        "tenant-config.schema.json": _tenant_config_schema(),
    }
    for spec in registry.all():
        for kind, schema in (("input", spec.input_schema), ("output", spec.output_schema)):
            relative = f"actions/{_id(spec)}.{kind}.json"
            files[relative] = _schema_file(schema, relative)
    return files


def _tenant_config_schema() -> dict:
    from tenants.config import SCHEMA

    return SCHEMA


def render(document: dict) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def export(directory: Path) -> list[Path]:
    written = []
    for relative, document in contract_files().items():
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(document))
        written.append(target)
    return written
