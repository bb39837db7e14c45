"""One trace per flow, from the webhook's SERVER span to the provider's CLIENT span,
every hop with the OpenTelemetry HTTP, messaging and database attributes, and no phone
number or token anywhere in it.

The services run in this process on real NATS, PostgreSQL and MongoDB, the providers
are the sandbox over HTTP; the trace crosses every hop only through what crosses a
process boundary too (``traceparent`` in NATS and HTTP headers). ``tests/test_demo.py``
shows the same across five processes. The stacks are the bot tests' and crm-sync's
own (loaded from their conftest files, not copied).

Flows:

- WhatsApp Cloud message -> gateway -> conversation -> notifier -> Graph API call;
- WhatsApp status webhook -> gateway -> notifier (status timeline);
- ManyChat contact webhook -> gateway -> crm-sync (PostgreSQL). crm-sync pushes to Odoo
  from its sync worker, in a trace of its own: extend
  ``test_manychat_contact_trace_reaches_crm_sync`` when that push is linked to (or
  continues) the consumer's trace.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from cauce_devstack.sandbox.meta.status_callbacks import AcceptedMessage, StatusCallbacks
from cauce_devstack.sandbox.settings import (
    DEV_GRAPH_TOKEN,
    DEV_PHONE_NUMBER_ID,
    DEV_SCI_WEBHOOK_SECRET,
    SandboxSettings,
)
from cauce_devstack.servers import NatsServer, free_port
from cauce_devstack.servers.postgres import PostgresServer
from cauce_devstack.testing import serving
from cauce_gateway.app import create_app as create_gateway
from cauce_gateway.settings import GatewaySettings, KeyedTenant
from cauce_runtime import ServiceSettings, Telemetry, setup_telemetry

ROOT = Path(__file__).resolve().parents[2]
Span = dict[str, Any]


def _load(relative: str, name: str) -> ModuleType:
    """A test package's conftest as a plain module (its fixtures stay its own; we use
    its stack builders)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / relative)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


BOT = _load("tests/bot/conftest.py", "cauce_bot_stack_for_traces")
CRM = _load("services/crm-sync/tests/conftest.py", "cauce_crm_stack_for_traces")

MANYCHAT_KEY = "manychat-key-for-trace-tests"
MANYCHAT_PHONE = "+56912345678"


@pytest.fixture
def telemetry(tmp_path: Path) -> Iterator[Telemetry]:
    installed = setup_telemetry(
        ServiceSettings(environment="test", span_file=tmp_path / "spans.jsonl", _env_file=None)  # type: ignore[call-arg]
    )
    yield installed
    installed.shutdown()  # later tests' spans are not written here


def read_spans(telemetry: Telemetry, path: Path) -> list[Span]:
    assert telemetry.force_flush()
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def find(
    telemetry: Telemetry,
    path: Path,
    wanted: Callable[[Span, list[Span]], bool],
    what: str,
    timeout: float = 30.0,
) -> Span:
    """The first span for which ``wanted(span, every span so far)`` holds (spans are
    exported in small batches, so this polls)."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                spans = read_spans(telemetry, path)
                for span in spans:
                    if wanted(span, spans):
                        return span
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(f"no span for {what}") from None


def trace_of(telemetry: Telemetry, path: Path, span: Span) -> list[Span]:
    return [s for s in read_spans(telemetry, path) if s["trace_id"] == span["trace_id"]]


def ancestry(spans: list[Span], leaf: Span) -> list[Span]:
    """``leaf`` and its ancestors, root first; the root must be in the trace."""
    by_id = {span["span_id"]: span for span in spans}
    chain = [leaf]
    while chain[-1].get("parent_span_id"):
        parent = by_id.get(chain[-1]["parent_span_id"])
        assert parent is not None, f"{chain[-1]['name']}: its parent is not in the trace"
        chain.append(parent)
    return chain[::-1]


def hops(chain: list[Span]) -> list[tuple[str, str]]:
    """``(kind, what)`` of each hop between processes: SERVER (route), PRODUCER (subject
    template), CONSUMER (durable), CLIENT (host and path)."""
    shown = []
    for span in chain:
        attributes = span["attributes"]
        kind = span["kind"]
        if kind == "SERVER":
            shown.append((kind, attributes["http.route"]))
        elif kind == "PRODUCER":
            shown.append((kind, attributes["messaging.destination.template"]))
        elif kind == "CONSUMER":
            shown.append((kind, attributes["messaging.consumer.group.name"]))
        elif kind == "CLIENT" and "url.full" in attributes:
            shown.append((kind, httpx.URL(attributes["url.full"]).path))
    return shown


def assert_semantic_conventions(spans: list[Span]) -> None:
    """Each kind of span carries the attributes its conventions require."""
    for span in spans:
        attributes, kind = span["attributes"], span["kind"]
        if kind == "SERVER":
            for key in ("http.request.method", "http.route", "http.response.status_code"):
                assert key in attributes, (span["name"], key)
            assert "url.path" not in attributes and "url.query" not in attributes
        elif kind in ("PRODUCER", "CONSUMER"):
            assert attributes["messaging.system"] == "nats", span["name"]
            assert attributes["messaging.operation.type"] == (
                "send" if kind == "PRODUCER" else "process"
            )
            required = ["messaging.operation.name"]
            if "messaging.batch.message_count" in attributes:
                # a batch's span names no one message (each consumer's span does), and
                # its destination and stream only when all its messages share them
                assert attributes["messaging.batch.message_count"] > 1, span["name"]
            else:
                required += [
                    "messaging.destination.name",
                    "messaging.destination.template",
                    "messaging.nats.stream",
                    "messaging.message.id",
                    "messaging.nats.sequence",
                ]
            for key in required:
                assert key in attributes, (span["name"], key)
            if kind == "CONSUMER":
                assert attributes["messaging.consumer.group.name"], span["name"]
        elif kind == "CLIENT" and "db.system.name" in attributes:
            assert attributes["db.system.name"] in ("postgresql", "mongodb"), span["name"]
            for key in ("db.namespace", "db.operation.name", "db.query.summary"):
                assert key in attributes, (span["name"], key)
        elif kind == "CLIENT":
            for key in (
                "http.request.method",
                "server.address",
                "server.port",
                "url.full",
                "http.response.status_code",
            ):
                assert key in attributes, (span["name"], key)


def assert_nothing_secret(spans: list[Span], *secrets: str) -> None:
    """No phone number (with or without "+", as digits) or token in any attribute or
    event of the trace."""
    text = json.dumps([{"a": s["attributes"], "e": s["events"], "n": s["name"]} for s in spans])
    for secret in secrets:
        assert secret not in text, f"{secret[:6]}... leaked into a span"


def db_systems(spans: list[Span]) -> set[str]:
    return {s["attributes"]["db.system.name"] for s in spans if "db.system.name" in s["attributes"]}


async def test_whatsapp_message_to_graph_call_is_one_trace(
    nats_server: NatsServer,
    postgres_server: PostgresServer,
    mongo_url: str,
    tmp_path: Path,
    telemetry: Telemetry,
) -> None:
    spans_file = tmp_path / "spans.jsonl"
    async with BOT.bot_stack(nats_server, postgres_server, mongo_url, tmp_path) as stack:
        customer = stack.customer()
        await customer.say("Hola")
        await customer.replies_until(lambda new: bool(new), "greeting")

        def graph_message_call(span: Span, _: list[Span]) -> bool:
            url = span["attributes"].get("url.full", "")
            return span["kind"] == "CLIENT" and url.endswith("/messages") and "/graph/" in url

        client = await find(telemetry, spans_file, graph_message_call, "the Graph API call")
        spans = trace_of(telemetry, spans_file, client)
        chain = ancestry(spans, client)

    assert [kind for kind, _ in hops(chain)] == [
        "SERVER",
        "PRODUCER",
        "CONSUMER",
        "PRODUCER",
        "CONSUMER",
        "CLIENT",
    ], hops(chain)
    (_, route), (_, inbound), (_, conversation), (_, outbound), (_, notifier), (_, path) = hops(
        chain
    )
    assert route == "/webhooks/whatsapp"
    assert inbound == "inbound.message.received.{tenant_id}.{channel}.{contact_key}"
    assert conversation.startswith("conversation-inbound-p")
    assert outbound == "outbound.message.requested.{tenant_id}.{channel}.{contact_key}"
    assert notifier == "notifier-requests"
    assert path.startswith("/graph/") and path.endswith("/messages")
    root, client_attributes = chain[0], chain[-1]["attributes"]
    assert root["parent_span_id"] is None
    assert root["attributes"]["http.response.status_code"] == 200
    assert client_attributes["http.response.status_code"] == 200
    assert client_attributes["http.request.method"] == "POST"
    # the stored subject's partition is kept; the contact key never is
    consumed = chain[2]["attributes"]["messaging.destination.name"]
    assert consumed.startswith("inbound.message.received.acme.whatsapp.{contact_key}.")
    # the conversation read and wrote MongoDB, the notifier PostgreSQL, in this trace
    assert {"mongodb", "postgresql"} <= db_systems(spans)
    assert_semantic_conventions(spans)
    assert_nothing_secret(
        spans, customer.phone, f"+{customer.phone}", DEV_GRAPH_TOKEN, BOT.CONTACT_SECRET
    )


async def test_whatsapp_status_webhook_reaches_the_notifier_in_one_trace(
    nats_server: NatsServer,
    postgres_server: PostgresServer,
    mongo_url: str,
    tmp_path: Path,
    telemetry: Telemetry,
) -> None:
    spans_file = tmp_path / "spans.jsonl"
    async with BOT.bot_stack(nats_server, postgres_server, mongo_url, tmp_path) as stack:
        customer = stack.customer()
        await customer.say("Hola")
        await customer.replies_until(lambda new: bool(new), "greeting")
        outbox = await stack.sandbox(
            "GET", "/sandbox/outbox", params={"to": customer.phone, "provider": "graph"}
        )
        sent = next(e for e in outbox.json() if e["kind"] == "message")
        # Meta's status webhooks for that message (sent, delivered), signed and posted to
        # the gateway by the sandbox, as in `make run`.
        statuses = StatusCallbacks(
            SandboxSettings(
                gateway_url=stack.gateway_url,
                status_callbacks_enabled=True,
                status_sent_delay_s=0,
                status_delivered_delay_s=0,
                status_read_enabled=False,
            )
        )
        statuses.schedule(AcceptedMessage(DEV_PHONE_NUMBER_ID, sent["message_id"], customer.phone))

        def status_change_announced(span: Span, spans: list[Span]) -> bool:
            """The notifier's ``status_changed`` publish under its statuses consumer (the
            ``sent`` webhook changes nothing: the notifier recorded ``sent`` itself)."""
            template = span["attributes"].get("messaging.destination.template", "")
            if span["kind"] != "PRODUCER" or not template.startswith(
                "outbound.message.status_changed."
            ):
                return False
            parent = next((s for s in spans if s["span_id"] == span["parent_span_id"]), None)
            group = parent["attributes"].get("messaging.consumer.group.name") if parent else None
            return group == "notifier-statuses"

        try:
            announced = await find(telemetry, spans_file, status_change_announced, "a change")
        finally:
            await statuses.aclose()
        spans = trace_of(telemetry, spans_file, announced)
        chain = ancestry(spans, announced)[:-1]  # up to the statuses consumer

    assert hops(chain) == [
        ("SERVER", "/webhooks/whatsapp"),
        ("PRODUCER", "inbound.status.updated.{tenant_id}.{channel}.{contact_key}"),
        ("CONSUMER", "notifier-statuses"),
    ]
    assert chain[-1]["attributes"]["cauce.event_type"] == "inbound.status.updated"
    assert chain[-2]["attributes"]["messaging.message.id"].startswith("whatsapp:status:")
    assert chain[-1]["status"]["code"] != "ERROR"
    # the timeline was updated in PostgreSQL in the same trace, then announced
    assert "postgresql" in db_systems([s for s in spans if s not in chain])
    assert_semantic_conventions(spans)
    assert_nothing_secret(spans, customer.phone, f"+{customer.phone}", DEV_SCI_WEBHOOK_SECRET)


async def test_manychat_contact_trace_reaches_crm_sync(
    nats_url: str, database_url: str, tmp_path: Path, telemetry: Telemetry
) -> None:
    """ManyChat -> gateway -> crm-sync's consumer (PostgreSQL) -> the sync worker's round
    (which continues the trace of the change it sends) -> the Odoo ``create`` call."""
    spans_file = tmp_path / "spans.jsonl"
    gateway = GatewaySettings(
        _env_file=None,
        environment="test",
        port=free_port(),
        nats_url=nats_url,
        span_file=spans_file,
        manychat_tenants=[KeyedTenant(tenant_id=CRM.TENANT, api_key=SecretStr(MANYCHAT_KEY))],
    )
    async with (
        CRM.running_sandbox() as sandbox_url,
        CRM.running_crm(nats_url, database_url, sandbox_url, tmp_path) as crm,
        serving(create_gateway(gateway), gateway.port) as gateway_url,
    ):
        answer = await crm.http.post(
            f"{gateway_url}/webhooks/manychat/contact",
            headers={"X-API-KEY": MANYCHAT_KEY},
            json={
                "manychat_id": "trace_contact_789",
                "nombre_lead": "Lead Trazado",
                "datetime_actual": "2025-06-05T12:41:36Z",
                "ultimo_estado": "Nuevo",
                "first_name": "Lead",
                "last_name": "Trazado",
                "phone": MANYCHAT_PHONE,
                "email": "lead.trazado@example.com",
            },
        )
        assert answer.status_code == 202, answer.text

        def stored_by_crm_sync(span: Span, _: list[Span]) -> bool:
            attributes = span["attributes"]
            return (
                span["kind"] == "CONSUMER"
                and attributes.get("messaging.consumer.group.name") == "crm-sync"
                and attributes.get("cauce.event_type") == "crm.contact.upserted"
            )

        consumer = await find(telemetry, spans_file, stored_by_crm_sync, "crm-sync's consumer")

        def odoo_create(span: Span, seen: list[Span]) -> bool:
            parent = next((s for s in seen if s["span_id"] == span.get("parent_span_id")), None)
            return (
                span["trace_id"] == consumer["trace_id"]
                and span["kind"] == "CLIENT"
                and str(span["attributes"].get("url.full", "")).endswith("/odoo/jsonrpc")
                and parent is not None
                and parent["name"] == "odoo manychat.contact.create"
            )

        create = await find(telemetry, spans_file, odoo_create, "the Odoo create call")
        spans = trace_of(telemetry, spans_file, create)
        chain = ancestry(spans, create)

    assert hops(chain) == [
        ("SERVER", "/webhooks/manychat/contact"),
        ("PRODUCER", "crm.contact.upserted.{tenant_id}.{manychat_id}"),
        ("CONSUMER", "crm-sync"),
        ("CLIENT", "/odoo/jsonrpc"),
    ]
    assert "crm-sync round" in [span["name"] for span in chain]
    assert chain[0]["attributes"]["http.response.status_code"] == 202
    assert chain[1]["attributes"]["messaging.destination.name"] == (
        "crm.contact.upserted.acme.{manychat_id}"
    )
    assert "postgresql" in db_systems([s for s in spans if s not in chain])
    assert_semantic_conventions(spans)
    assert_nothing_secret(spans, MANYCHAT_PHONE, MANYCHAT_PHONE[1:], MANYCHAT_KEY)
    assert "trace_contact_789" not in json.dumps([s["attributes"] for s in spans])
