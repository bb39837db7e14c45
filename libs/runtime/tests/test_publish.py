"""Publishing: PubAck, Nats-Msg-Id, trace context, dedupe, and an unavailable bus."""

from __future__ import annotations

import time

import pytest
from opentelemetry import trace

from cauce_devstack.servers.nats import NatsServer
from cauce_runtime import Bus, BusUnavailable, ServiceSettings, setup_telemetry

from .conftest import TEST_STREAM, ping


async def test_publish_sets_msg_id_event_type_and_traceparent(
    bus: Bus, settings: ServiceSettings
) -> None:
    setup_telemetry(settings)
    event = ping()
    with trace.get_tracer("test").start_as_current_span("webhook") as parent:
        ack = await bus.publish(event, "rttest.ping.acme")
    assert ack.stream == TEST_STREAM.name and not ack.duplicate

    stored = await bus.connection.jsm().get_msg(TEST_STREAM.name, ack.seq)
    headers = stored.headers or {}
    assert headers["Nats-Msg-Id"] == str(event.event_id)
    assert headers["Cauce-Event-Type"] == "rttest.ping"
    trace_id = f"{parent.get_span_context().trace_id:032x}"
    assert headers["traceparent"].split("-")[1] == trace_id
    assert type(event).model_validate_json(stored.data or b"") == event


async def test_same_msg_id_twice_is_stored_once(bus: Bus) -> None:
    first = await bus.publish(ping("a"), "rttest.ping.acme", msg_id="provider-123")
    second = await bus.publish(ping("b"), "rttest.ping.acme", msg_id="provider-123")
    assert not first.duplicate
    assert second.duplicate
    assert second.seq == first.seq
    info = await bus.connection.jsm().stream_info(TEST_STREAM.name)
    assert info.state.messages == 1


async def test_publish_without_a_stream_raises_bus_unavailable(bus: Bus) -> None:
    with pytest.raises(BusUnavailable):
        await bus.publish(ping(), "nostream.here", timeout=0.5)


async def test_publish_with_server_stopped_raises_within_timeout(
    bus: Bus, nats_server: NatsServer
) -> None:
    nats_server.stop()
    started = time.monotonic()
    with pytest.raises(BusUnavailable):
        await bus.publish(ping(), "rttest.ping.acme", timeout=0.3)
    # Generous bound: the point is "bounded by the timeout", not a latency figure.
    assert time.monotonic() - started < 3.0
    assert not bus.connected


async def test_publish_before_start_raises_bus_unavailable(settings: ServiceSettings) -> None:
    with pytest.raises(BusUnavailable):
        await Bus(settings).publish(ping(), "rttest.ping.acme")


async def test_start_without_server_raises_bus_unavailable(settings: ServiceSettings) -> None:
    unreachable = settings.model_copy(
        update={"nats_url": "nats://127.0.0.1:1", "nats_connect_timeout": 0.5}
    )
    with pytest.raises(BusUnavailable):
        await Bus(unreachable).start()
