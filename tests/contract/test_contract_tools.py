"""The exported contract as third-party tools read it: OpenAPI through
openapi-spec-validator, AsyncAPI through the AsyncAPI Initiative's JSON Schema, every
`$ref` resolvable, every schema file naming its dialect, one title per component."""

import copy
import json
from collections import Counter
from pathlib import Path

import jsonschema
import pytest
from openapi_spec_validator import validate as validate_openapi
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from actions.contract.index import (
    HEALTH_SCHEMA,
    INDEX_SCHEMA,
    asyncapi_document,
    contract_files,
    index_document,
    openapi_document,
)
from actions.contract.registry import registry

ROOT = Path(__file__).resolve().parents[2]
ASYNCAPI_SCHEMA = json.loads((Path(__file__).parent / "asyncapi-3.0.0.schema.json").read_text())


def _plain(document: dict) -> dict:
    return json.loads(json.dumps(document))


def _refs(node, found: list[str]) -> list[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.append(value)
            else:
                _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)
    return found


def _resolve(document: dict, ref: str):
    assert ref.startswith("#/"), ref
    node = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_openapi_passes_openapi_spec_validator():
    validate_openapi(_plain(openapi_document()))
    validate_openapi(json.loads((ROOT / "contract" / "openapi.json").read_text()))


def test_openapi_spec_validator_catches_a_null_default_on_a_non_nullable_field():
    """The finding that broke the validator: the check must be able to fail."""
    document = _plain(openapi_document())
    schemas = document["components"]["schemas"]
    lead = next(name for name in schemas if name.startswith("LeadUpdate"))
    schemas[lead]["properties"]["name"]["default"] = None
    with pytest.raises(OpenAPIValidationError):
        validate_openapi(document)


def test_update_fields_that_may_not_be_null_publish_no_null_default():
    for spec in registry.all():
        for name, prop in spec.input_schema.get("properties", {}).items():
            if prop.get("default", "unset") is None:
                assert any(v.get("type") == "null" for v in prop.get("anyOf", [])), (
                    f"{spec.name}.{name} publishes default null on a non-nullable type"
                )


def test_asyncapi_is_valid_by_the_asyncapi_schema():
    validator = jsonschema.Draft7Validator(ASYNCAPI_SCHEMA)
    errors = [e.message for e in validator.iter_errors(_plain(asyncapi_document()))]
    assert errors == []
    committed = json.loads((ROOT / "contract" / "asyncapi.json").read_text())
    assert [e.message for e in validator.iter_errors(committed)] == []


def test_the_asyncapi_schema_check_can_fail():
    broken = _plain(asyncapi_document())
    broken["operations"]["userSend"]["action"] = "publish"  # AsyncAPI 2 wording
    assert list(jsonschema.Draft7Validator(ASYNCAPI_SCHEMA).iter_errors(broken))


def test_asyncapi_messages_declare_headers_correlation_and_each_actions_payload():
    document = _plain(asyncapi_document())
    messages = document["components"]["messages"]
    for spec in registry.all():
        channel = document["channels"][f"ingress.{spec.channel.value}"]
        [key] = [k for k, m in messages.items() if m.get("name") == spec.name]
        assert key in channel["messages"]
        message = messages[key]
        assert "authorization" in message["headers"]["properties"]
        assert message["correlationId"]["location"] == "$message.header#/correlation_id"
        request = _resolve(document, message["payload"]["$ref"])
        assert request["properties"]["action"]["const"] == spec.name
        payload = _resolve(document, request["properties"]["payload"]["$ref"])
        assert payload["properties"].keys() == spec.input_schema.get("properties", {}).keys()
    send = document["operations"]["userSend"]
    assert send["reply"]["address"]["location"] == "$message.header#/reply_to"


@pytest.mark.parametrize("name", ["openapi", "asyncapi"])
def test_every_ref_resolves(name):
    document = _plain(openapi_document() if name == "openapi" else asyncapi_document())
    refs = _refs(document, [])
    assert len(refs) > 100
    for ref in refs:
        _resolve(document, ref)  # raises KeyError when it dangles


def test_every_component_has_its_own_title():
    schemas = _plain(openapi_document())["components"]["schemas"]
    titles = Counter(schema.get("title") for schema in schemas.values())
    assert [title for title, n in titles.items() if n > 1 or title is None] == []


def test_every_schema_file_names_its_dialect():
    files = contract_files()
    schema_files = {
        path: doc
        for path, doc in files.items()
        if path not in ("index.json", "openapi.json", "asyncapi.json")
    }
    assert len(schema_files) == 3 + 2 * len(registry.all())
    for path, document in schema_files.items():
        assert document.get("$schema") == "https://json-schema.org/draft/2020-12/schema", path
        on_disk = json.loads((ROOT / "contract" / path).read_text())
        assert on_disk.get("$schema") == document["$schema"], path
        jsonschema.Draft202012Validator.check_schema(document)


def test_the_index_document_matches_its_declared_schema():
    jsonschema.Draft202012Validator(INDEX_SCHEMA).validate(_plain(index_document()))
    broken = copy.deepcopy(_plain(index_document()))
    del broken["actions"][0]["roles"]
    assert list(jsonschema.Draft202012Validator(INDEX_SCHEMA).iter_errors(broken))


@pytest.mark.usefixtures("workers")
def test_health_matches_its_declared_schema(client):
    response = client.get("/health")
    jsonschema.Draft202012Validator(HEALTH_SCHEMA).validate(response.json())
