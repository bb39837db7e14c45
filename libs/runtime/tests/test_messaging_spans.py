"""Publish and process spans carry the messaging conventions, and never a contact key,
a ManyChat id or a transaction id."""

from __future__ import annotations

import asyncio
import json

from opentelemetry import trace

from cauce_contracts import subjects
from cauce_runtime import ServiceSettings, setup_telemetry
from cauce_runtime.telemetry._messaging_spans import describe_subject

from .conftest import ping
from .test_consumers import pings_handled

KEY = subjects.contact_key("+57 300 123 4567", b"secret")


def test_identifying_tokens_are_replaced_by_their_names() -> None:
    message = subjects.subject(
        subjects.INBOUND_MESSAGE_RECEIVED, tenant_id="acme", channel="whatsapp", contact_key=KEY
    )
    assert describe_subject(message) == (
        "inbound.message.received.acme.whatsapp.{contact_key}",
        "inbound.message.received.{tenant_id}.{channel}.{contact_key}",
    )
    # as stored in INBOUND: the partition token the stream appends is kept
    assert describe_subject(f"{message}.7") == (
        "inbound.message.received.acme.whatsapp.{contact_key}.7",
        "inbound.message.received.{tenant_id}.{channel}.{contact_key}.{partition}",
    )
    assert describe_subject(
        subjects.subject(subjects.CRM_CONTACT_UPSERTED, tenant_id="acme", manychat_id="mc_123")
    )[0] == ("crm.contact.upserted.acme.{manychat_id}")
    assert describe_subject(
        subjects.subject(
            subjects.PAYMENTS_TRANSACTION_STATUS_CHANGED, tenant_id="acme", transaction_id="T-99"
        )
    )[0] == ("payments.transaction.status_changed.acme.{transaction_id}")
    assert describe_subject(subjects.dlq("OUTBOUND", "notifier-requests")) == (
        "dlq.OUTBOUND.notifier-requests",
        "dlq.{stream}.{durable_name}",
    )
    assert (
        describe_subject(subjects.subject(subjects.INBOUND_UNRECOGNIZED, channel="sci"))[0]
        == "inbound.unrecognized.sci"
    )
    assert describe_subject("somewhere.else.573001234567") == ("somewhere.>", "somewhere.>")


def test_every_contract_subject_finds_its_own_pattern() -> None:
    for pattern in subjects.SUBJECT_PATTERNS.values():
        concrete = ".".join(
            f"v{i}" if token.startswith("{") else token
            for i, token in enumerate(pattern.split("."))
        )
        assert describe_subject(concrete)[1] == pattern
        assert describe_subject(f"{concrete}.3")[1] == f"{pattern}.{{partition}}"


async def test_publish_and_process_spans_follow_the_messaging_conventions(
    settings: ServiceSettings,
) -> None:
    telemetry = setup_telemetry(settings)
    async with pings_handled(settings, "rt_semconv") as (bus, handled):
        with trace.get_tracer("test").start_as_current_span("webhook") as root:
            await bus.publish(ping(), "rttest.ping.acme", msg_id="provider:msg:573001234567")
        await asyncio.wait_for(handled.get(), 5)
    assert telemetry.force_flush()
    telemetry.shutdown()  # later tests' spans are not written here
    trace_id = f"{root.get_span_context().trace_id:032x}"
    spans = [
        span
        for span in map(json.loads, settings.span_file.read_text().splitlines())
        if span["trace_id"] == trace_id
    ]
    [producer] = [s for s in spans if s["kind"] == "PRODUCER"]
    [processing] = [s for s in spans if s["kind"] == "CONSUMER"]
    assert processing["parent_span_id"] == producer["span_id"]
    sent = producer["attributes"]
    assert sent["messaging.system"] == "nats"
    assert sent["messaging.operation.type"] == "send"
    assert sent["messaging.operation.name"] == "publish"
    assert sent["messaging.destination.name"] == "rttest.>"
    assert sent["messaging.nats.stream"] == "RTTEST"
    assert sent["messaging.message.body.size"] > 0
    processed = processing["attributes"]
    assert processing["name"] == "process rt_semconv"
    assert processed["messaging.operation.type"] == "process"
    assert processed["messaging.consumer.group.name"] == "rt_semconv"
    assert processed["messaging.nats.stream"] == "RTTEST"
    assert processed["messaging.nats.sequence"] == sent["messaging.nats.sequence"]
    assert processed["messaging.nats.delivery_count"] == 1
    assert processed["cauce.event_type"] == "rttest.ping"
    assert processed["cauce.tenant_id"] == "acme"
    # a provider id carrying a number in clear is masked, not dropped
    assert processed["messaging.message.id"] == sent["messaging.message.id"]
    assert "573001234567" not in json.dumps(spans)
    assert sent["messaging.message.id"].startswith("provider:msg:57")
