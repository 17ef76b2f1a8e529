"""Documents generated from the index: the served index, the exported contract files
(JSON Schemas for a front end), OpenAPI for REST and AsyncAPI for the AMQP channels."""

import json
from pathlib import Path
from typing import Any

from django.conf import settings

from actions.contract.connectors import connector_entries
from actions.contract.envelope import SCHEMA_DIR
from actions.contract.errors import ERROR_TABLE
from actions.contract.registry import registry
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


def _request_variants() -> list[dict]:
    """One request schema per action: the envelope with `action` and `payload` fixed."""
    variants = []
    for spec in registry.all():
        variants.append(
            {
                "title": f"{spec.name} v{spec.version}",
                "allOf": [{"$ref": "#/components/schemas/RequestEnvelope"}],
                "properties": {
                    "action": {"const": spec.name},
                    "payload": {"$ref": f"#/components/schemas/{_id(spec)}.input"},
                },
            }
        )
    return variants


def _id(spec) -> str:
    return f"{spec.name}.v{spec.version}"


def _components() -> dict:
    schemas = {
        "RequestEnvelope": _envelope_schema("request"),
        "ResponseEnvelope": _envelope_schema("response"),
    }
    for spec in registry.all():
        schemas[f"{_id(spec)}.input"] = _lift_defs(spec.input_schema, schemas)
        schemas[f"{_id(spec)}.output"] = _lift_defs(spec.output_schema, schemas)
    return schemas


def _lift_defs(schema: dict, into: dict) -> dict:
    """Move pydantic's `$defs` into components so `$ref`s resolve in OpenAPI/AsyncAPI."""
    schema = json.loads(json.dumps(schema))
    defs = schema.pop("$defs", {})
    text = json.dumps(schema)
    for name, definition in defs.items():
        into.setdefault(name, definition)
    text = text.replace('"#/$defs/', '"#/components/schemas/')
    for name in defs:
        into[name] = json.loads(
            json.dumps(into[name]).replace('"#/$defs/', '"#/components/schemas/')
        )
    return json.loads(text)


def _channel_ops(channel: str) -> list[str]:
    return [spec.name for spec in registry.all() if spec.channel == channel]


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
                                    v
                                    for v in _request_variants()
                                    if v["properties"]["action"]["const"] in _channel_ops(channel)
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
        "servers": [{"url": "http://localhost:8000", "description": "`make run`"}],
        "security": [{"bearer": []}, {}],
        "paths": {
            "/api/v1/actions": post("user", "Send a user-channel action message."),
            "/api/v1/actions/{record_id}": get("user"),
            "/api/v1/admin/actions": post("admin", "Send an admin-channel action message."),
            "/api/v1/admin/actions/{record_id}": get("admin"),
            "/api/v1/index": {
                "get": {
                    "summary": "The index.",
                    "operationId": "index",
                    "security": [{}],
                    "responses": {"200": {"description": "The index"}},
                }
            },
            "/health": {
                "get": {
                    "summary": "Health.",
                    "operationId": "health",
                    "security": [{}],
                    "responses": {
                        "200": {"description": "All parts up"},
                        "503": {"description": "A part is down"},
                    },
                }
            },
        },
    }


def asyncapi_document() -> dict:
    channels: dict[str, dict[str, Any]] = {}
    operations: dict[str, dict[str, Any]] = {}
    for channel in ("user", "admin"):
        channels[f"ingress.{channel}"] = {
            "address": ingress_name(channel),
            "description": "Publish a request envelope here (topic exchange; routing key = "
            "action name; header `authorization: Bearer <jwt>`; set correlation_id and "
            "reply_to `amq.rabbitmq.reply-to`, direct reply-to: the only reply address).",
            "messages": {"request": {"$ref": "#/components/messages/RequestEnvelope"}},
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
        }
    channels["reply"] = {
        "address": None,
        "description": "Direct reply-to (amq.rabbitmq.reply-to) of the sending channel.",
        "messages": {"response": {"$ref": "#/components/messages/ResponseEnvelope"}},
    }
    operations["receiveReply"] = {"action": "receive", "channel": {"$ref": "#/channels/reply"}}
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
            "messages": {
                "RequestEnvelope": {
                    "contentType": "application/json",
                    "payload": {"$ref": "#/components/schemas/RequestEnvelope"},
                },
                "ResponseEnvelope": {
                    "contentType": "application/json",
                    "payload": {"$ref": "#/components/schemas/ResponseEnvelope"},
                },
            },
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
        files[f"actions/{_id(spec)}.input.json"] = spec.input_schema
        files[f"actions/{_id(spec)}.output.json"] = spec.output_schema
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
