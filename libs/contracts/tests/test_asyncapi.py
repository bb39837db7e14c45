"""The AsyncAPI document: complete, self-consistent, and the checked-in copy is fresh."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from cauce_contracts import ALL_EVENTS, asyncapi, subjects

DOC_PATH = Path(__file__).resolve().parents[3] / "docs" / "asyncapi.yaml"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return asyncapi.build_document()


def test_checked_in_document_is_fresh() -> None:
    assert DOC_PATH.exists(), "docs/asyncapi.yaml is missing: run `make asyncapi`"
    assert DOC_PATH.read_text(encoding="utf-8") == asyncapi.render(), (
        "docs/asyncapi.yaml is stale: run `make asyncapi` and commit the result"
    )


def test_output_is_deterministic_yaml_of_the_document(document: dict[str, Any]) -> None:
    text = asyncapi.render()
    assert text == asyncapi.render()
    assert yaml.safe_load(text) == document
    assert "&id" not in text  # no YAML anchors: the file is read by humans


def test_one_channel_message_and_operation_per_event(document: dict[str, Any]) -> None:
    assert document["asyncapi"] == "3.0.0"
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {subjects.subject_pattern(t) for t in ALL_EVENTS}
    assert set(document["components"]["messages"]) == {m.__name__ for m in ALL_EVENTS.values()}
    assert len(document["operations"]) == len(ALL_EVENTS)
    for operation in document["operations"].values():
        assert operation["action"] == "receive"


def test_channel_parameters_match_address(document: dict[str, Any]) -> None:
    for channel_id, channel in document["channels"].items():
        assert re.fullmatch(r"[A-Za-z0-9_\-]+", channel_id)
        placeholders = re.findall(r"\{([^}]+)\}", channel["address"])
        assert list(channel["parameters"]) == placeholders
    inbound = document["channels"]["inbound_message_received"]
    assert inbound["parameters"]["channel"]["enum"] == [c.value for c in subjects.Channel]


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


def test_every_ref_resolves(document: dict[str, Any]) -> None:
    refs = _refs(document)
    assert refs
    for ref in refs:
        node: Any = document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        assert isinstance(node, dict), ref


def test_payload_schemas_pin_event_type(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for event_type, model in ALL_EVENTS.items():
        properties = schemas[model.__name__]["properties"]
        assert properties["event_type"]["const"] == event_type
        assert schemas[model.__name__]["additionalProperties"] is False


def test_discriminators_are_property_names(document: dict[str, Any]) -> None:
    # AsyncAPI's Schema Object wants a string, not OpenAPI's discriminator object.
    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "discriminator" in node:
                assert isinstance(node["discriminator"], str)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(document)


def test_cli_writes_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "docs" / "asyncapi.yaml"
    assert asyncapi.main(["--output", str(output), "--check"]) == 1  # missing
    assert "make asyncapi" in capsys.readouterr().err
    assert asyncapi.main(["--output", str(output)]) == 0
    assert output.read_text(encoding="utf-8") == asyncapi.render()
    assert asyncapi.main(["--output", str(output), "--check"]) == 0
    output.write_text(output.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    assert asyncapi.main(["--output", str(output), "--check"]) == 1
