"""Batch publishing: every message durable with its own id, one span (or a trace each
for bulk work), an honest failure."""

from __future__ import annotations

import asyncio
import json

import pytest
from opentelemetry import trace
from opentelemetry.trace import Link

from cauce_runtime import (
    Bus,
    BusUnavailable,
    NewTrace,
    Publication,
    ServiceSettings,
    setup_telemetry,
)

from .conftest import TEST_STREAM, Ping, ping
from .test_consumers import pings_handled

Item = Publication


async def test_every_message_lands_once_with_its_own_id(bus: Bus) -> None:
    batch = [Item(ping(f"m{i}"), f"rttest.ping.t{i % 3}", f"provider-{i}") for i in range(50)]
    acks = await bus.publish_batch(batch)
    assert len(acks) == 50 and not any(ack.duplicate for ack in acks)
    stored = [await bus.connection.jsm().get_msg(TEST_STREAM.name, ack.seq) for ack in acks]
    assert [m.headers["Nats-Msg-Id"] for m in stored if m.headers] == [i.msg_id for i in batch]
    assert [Ping.model_validate_json(m.data or b"").text for m in stored] == [
        f"m{i}" for i in range(50)
    ]

    again = await bus.publish_batch(batch)  # a redelivered webhook
    assert all(ack.duplicate for ack in again)
    info = await bus.connection.jsm().stream_info(TEST_STREAM.name)
    assert info.state.messages == 50


async def test_one_span_for_the_batch_parents_each_consumer(settings: ServiceSettings) -> None:
    telemetry = setup_telemetry(settings)
    async with pings_handled(settings, "rt_batch") as (bus, handled):
        with trace.get_tracer("test").start_as_current_span("webhook") as root:
            await bus.publish_batch([Item(ping(t), "rttest.ping.acme", None) for t in "abc"])
        texts = {await asyncio.wait_for(handled.get(), 5) for _ in range(3)}
    assert texts == {"a", "b", "c"}
    assert telemetry.force_flush()
    telemetry.shutdown()
    trace_id = f"{root.get_span_context().trace_id:032x}"
    spans = [
        span
        for span in map(json.loads, settings.span_file.read_text().splitlines())
        if span["trace_id"] == trace_id
    ]
    [producer] = [s for s in spans if s["kind"] == "PRODUCER"]
    consumers = [s for s in spans if s["kind"] == "CONSUMER"]
    assert producer["name"] == "publish rttest.ping"
    assert producer["attributes"]["messaging.batch.message_count"] == 3
    assert producer["attributes"]["messaging.destination.name"] == "rttest.>"
    assert len(consumers) == 3
    assert {c["parent_span_id"] for c in consumers} == {producer["span_id"]}


async def test_a_failed_message_fails_the_batch(bus: Bus) -> None:
    """One subject no stream takes: BusUnavailable, after the others landed."""
    batch = [Item(ping("kept"), "rttest.ping.acme", "kept-1"), Item(ping(), "nostream.x", None)]
    with pytest.raises(BusUnavailable):
        await bus.publish_batch(batch, timeout=0.5)
    info = await bus.connection.jsm().stream_info(TEST_STREAM.name)
    assert info.state.messages == 1


async def test_an_empty_batch_publishes_nothing(bus: Bus) -> None:
    assert await bus.publish_batch([]) == []


async def test_a_batch_of_one_is_a_plain_publish(bus: Bus) -> None:
    [ack] = await bus.publish_batch([Item(ping(), "rttest.ping.acme", "solo-1")])
    stored = await bus.connection.jsm().get_msg(TEST_STREAM.name, ack.seq)
    assert (stored.headers or {})["Nats-Msg-Id"] == "solo-1"


async def test_bulk_items_each_begin_their_own_trace(settings: ServiceSettings) -> None:
    """A campaign's recipients: each publish the root of its recipient's trace, linked to
    the request that started them; the consumer's span is that root's child."""
    telemetry = setup_telemetry(settings)
    async with pings_handled(settings, "rt_roots") as (bus, handled):
        with trace.get_tracer("test").start_as_current_span("start campaign") as request:
            started = request.get_span_context()
            await bus.publish_batch(
                [
                    Publication(
                        ping(t),
                        "rttest.ping.acme",
                        new_trace=NewTrace("campaign send", [Link(started)], {"item": t}),
                    )
                    for t in "abc"
                ]
            )
        texts = {await asyncio.wait_for(handled.get(), 5) for _ in range(3)}
    assert texts == {"a", "b", "c"}
    assert telemetry.force_flush()
    telemetry.shutdown()
    spans = list(map(json.loads, settings.span_file.read_text().splitlines()))
    roots = [s for s in spans if s["name"] == "campaign send"]
    assert sorted(s["attributes"]["item"] for s in roots) == ["a", "b", "c"]
    request_trace = f"{started.trace_id:032x}"
    assert len({s["trace_id"] for s in roots} | {request_trace}) == 4  # a trace each
    for root in roots:
        assert root["kind"] == "PRODUCER" and root["parent_span_id"] is None
        assert [link["trace_id"] for link in root["links"]] == [request_trace]
        assert root["attributes"]["messaging.nats.stream"] == TEST_STREAM.name
        [child] = [s for s in spans if s.get("parent_span_id") == root["span_id"]]
        assert child["kind"] == "CONSUMER" and child["trace_id"] == root["trace_id"]
