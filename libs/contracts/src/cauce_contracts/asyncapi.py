"""Generate the AsyncAPI 3.0 document of every cauce event from the contracts.

``python -m cauce_contracts.asyncapi --output docs/asyncapi.yaml`` writes it (``make
asyncapi``); ``--check`` exits 1 when the file differs from what the contracts say.

The document covers every event in :data:`~cauce_contracts.registry.ALL_EVENTS`,
whoever subscribes to it: one channel per subject pattern (its variable tokens as
parameters), one message per event with the pydantic JSON schema as payload, and a
``receive`` operation per channel. Output is deterministic: the same contracts give
byte-identical YAML.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import yaml
from pydantic.json_schema import models_json_schema

from cauce_contracts import subjects
from cauce_contracts.envelope import Event
from cauce_contracts.registry import ALL_EVENTS
from cauce_contracts.streams import STREAMS, SUBSCRIPTIONS

_REF_PREFIX = "#/components/schemas/"

_MESSAGE_HEADERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "Nats-Msg-Id": {
            "type": "string",
            "description": "Deduplication key derived from the source (JetStream drops "
            "a repeat inside the stream's duplicate window).",
        },
        "traceparent": {
            "type": "string",
            "description": "W3C trace context of the producing span.",
        },
        "tracestate": {"type": "string", "description": "W3C trace state, when present."},
    },
}


def _contracts_version() -> str:
    try:
        return version("cauce-contracts")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"


def _channel_id(event_type: str) -> str:
    # AsyncAPI component keys must match ^[A-Za-z0-9_\-]+$; dots are not allowed.
    return event_type.replace(".", "_")


def _summary(model: type[Event]) -> str:
    doc = inspect.getdoc(model) or model.__name__
    return " ".join(doc.split("\n\n", 1)[0].split())


def _asyncapi_schema(node: Any) -> Any:
    """Adapt pydantic's JSON schema to the AsyncAPI Schema Object.

    AsyncAPI's ``discriminator`` is the property name, not OpenAPI's object; the
    ``oneOf`` with ``const`` values carries the mapping anyway.
    """
    if isinstance(node, dict):
        adapted = {key: _asyncapi_schema(value) for key, value in node.items()}
        discriminator = adapted.get("discriminator")
        if isinstance(discriminator, dict):
            adapted["discriminator"] = discriminator["propertyName"]
        return adapted
    if isinstance(node, list):
        return [_asyncapi_schema(item) for item in node]
    return node


def _sorted(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _sorted(node[key]) for key in sorted(node)}
    if isinstance(node, list):
        return [_sorted(item) for item in node]
    return node


def _parameters(pattern: str) -> dict[str, Any]:
    parameters: dict[str, Any] = {}
    for name in subjects.pattern_params(pattern):
        parameter: dict[str, Any] = {"description": subjects.TOKEN_DESCRIPTIONS[name]}
        if name == "channel":
            parameter["enum"] = [channel.value for channel in subjects.Channel]
        parameters[name] = parameter
    return parameters


def _stream_of(event_type: str) -> str:
    root = event_type.split(".", 1)[0]
    for stream in STREAMS:
        if f"{root}.>" in stream.subjects:
            return stream.name
    raise ValueError(f"no stream captures {event_type}")  # pragma: no cover


def _stored_samples(event_type: str) -> list[str]:
    """A sample subject of ``event_type`` as published and as its stream stores it."""
    pattern = subjects.subject_pattern(event_type)
    sample = pattern.format(**dict.fromkeys(subjects.pattern_params(pattern), "x"))
    samples = [sample]
    for stream in STREAMS:
        transform = stream.subject_transform
        if transform and subjects.subject_matches(transform[0], sample):
            partitions = range(subjects.MESSAGE_PARTITIONS)
            samples += [f"{sample}.{partition}" for partition in partitions]
    return samples


def _consumers_of(event_type: str) -> str:
    samples = _stored_samples(event_type)
    names = sorted(
        spec.durable_name
        for spec in SUBSCRIPTIONS
        if any(subjects.subject_matches(f, s) for f in spec.filter_subjects for s in samples)
    )
    if not names:
        return "none declared"
    partitioned = [name for name in names if name.startswith("conversation-inbound-p")]
    others = [f"`{name}`" for name in names if name not in partitioned]
    if partitioned:
        others.insert(
            0,
            f"`{partitioned[0]}` … `{partitioned[-1]}` (one per partition, stored subject "
            f"`{{address}}.{{partition}}`)",
        )
    return ", ".join(others)


def build_document() -> dict[str, Any]:
    """The AsyncAPI document as plain data (key order is the output order)."""
    event_types = sorted(ALL_EVENTS)
    models = [ALL_EVENTS[event_type] for event_type in event_types]
    _, definitions = models_json_schema(
        [(model, "validation") for model in models], ref_template=_REF_PREFIX + "{model}"
    )
    schemas = _asyncapi_schema(definitions.get("$defs", {}))

    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for event_type, model in zip(event_types, models, strict=True):
        name = model.__name__
        channel_id = _channel_id(event_type)
        pattern = subjects.subject_pattern(event_type)
        channels[channel_id] = {
            "address": pattern,
            "title": event_type,
            "description": f"{_summary(model)} Stream `{_stream_of(event_type)}`; "
            f"consumer filter `{subjects.all_of(event_type)}`; durable consumers: "
            f"{_consumers_of(event_type)}.",
            "parameters": _parameters(pattern),
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
        }
        operations[f"receive_{channel_id}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "summary": f"Consume {event_type} events.",
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/{name}"}],
        }
        messages[name] = {
            "name": event_type,
            "title": name,
            "summary": _summary(model),
            "contentType": "application/json",
            "headers": _MESSAGE_HEADERS,
            "payload": {"$ref": f"{_REF_PREFIX}{name}"},
        }

    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "cauce events",
            "version": _contracts_version(),
            "description": (
                "Every event on cauce's NATS JetStream bus, generated from "
                "`cauce_contracts` (run `make asyncapi`; do not edit by hand). Each "
                "event has the envelope event_id, event_type, schema_version, "
                "occurred_at, tenant_id, correlation_id, causation_id; trace context "
                "travels in headers."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "nats": {
                "host": "localhost:4222",
                "protocol": "nats",
                "description": (
                    "NATS with JetStream (local stack default). No anonymous clients: "
                    "each service signs in with its own NKEY and may publish and read "
                    "only its subjects (`cauce_contracts.bus_access`); TLS in prod."
                ),
                "security": [{"$ref": "#/components/securitySchemes/nkey"}],
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": _sorted(schemas),
            "securitySchemes": {
                "nkey": {
                    "type": "asymmetricEncryption",
                    "description": (
                        "A NATS NKEY (Ed25519): the client signs the server's nonce with "
                        "its seed; the server knows only the public key and its "
                        "permissions."
                    ),
                }
            },
        },
    }


class _Dumper(yaml.SafeDumper):  # type: ignore[misc,unused-ignore]  # untyped without stubs
    """Plain YAML for humans: no anchors/aliases, multi-line text as ``|`` blocks."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_str)


def render() -> str:
    """The AsyncAPI document as YAML text."""
    text: str = yaml.dump(
        build_document(),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cauce_contracts.asyncapi", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--output", type=Path, default=None, help="file to write (default: stdout)")
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 if --output differs from the generated document",
    )
    args = parser.parse_args(argv)
    text = render()
    output: Path | None = args.output
    if args.check:
        if output is None:
            parser.error("--check needs --output")
        current = output.read_text(encoding="utf-8") if output.exists() else None
        if current != text:
            print(f"{output} is stale: run `make asyncapi`", file=sys.stderr)
            return 1
        return 0
    if output is None:
        sys.stdout.write(text)
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
