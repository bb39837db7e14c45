"""Consumer semantics against a real nats-server: ack, nak with delay, DLQ, max_deliver."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest
from nats.aio.msg import Msg
from opentelemetry import trace

from cauce_contracts.dlq import DeadLettered
from cauce_contracts.streams import DLQ
from cauce_devstack.testing import eventually
from cauce_runtime import (
    Backoff,
    Bus,
    ConsumerSpec,
    Delivery,
    PermanentError,
    ServiceSettings,
    TransientError,
    consumer,
    setup_telemetry,
)

from .conftest import TEST_STREAM, Ping, ping

FAST = Backoff.of(0.1)


def small_spec(name: str) -> ConsumerSpec:
    return ConsumerSpec(
        durable_name=name,
        stream=TEST_STREAM.name,
        filter_subjects=("rttest.>",),
        description="runtime test consumer",
        max_deliver=3,
        backoff=FAST,
    )


@contextlib.asynccontextmanager
async def pings_handled(
    settings: ServiceSettings, durable: str
) -> AsyncIterator[tuple[Bus, asyncio.Queue[str]]]:
    """A started bus whose consumer ``durable`` puts each ping's text in the queue."""
    handled: asyncio.Queue[str] = asyncio.Queue()
    bus = Bus(settings, streams=(TEST_STREAM, DLQ))

    @consumer(bus, small_spec(durable), Ping, fetch_timeout=0.2)
    async def handle(event: Ping, delivery: Delivery) -> None:
        await handled.put(event.text)

    await bus.start()
    try:
        yield bus, handled
    finally:
        await bus.stop()


Handler = Callable[[Ping, Delivery], Awaitable[None]]


@pytest.fixture
async def run_consumer(
    settings: ServiceSettings,
) -> AsyncIterator[Callable[[ConsumerSpec, Handler], Awaitable[Bus]]]:
    buses: list[Bus] = []

    async def start(spec: ConsumerSpec, handler: Handler) -> Bus:
        bus = Bus(settings, streams=(TEST_STREAM, DLQ))
        consumer(bus, spec, Ping, fetch_timeout=0.2)(handler)
        await bus.start()
        buses.append(bus)
        return bus

    yield start
    for bus in buses:
        await bus.stop()


async def dlq_messages(bus: Bus, expected: int) -> list[Msg]:
    sub = await bus.connection.jetstream().pull_subscribe("dlq.>", stream=DLQ.name)
    try:
        return await sub.fetch(expected, timeout=5.0)
    finally:
        await sub.unsubscribe()


async def test_success_is_acked_and_not_redelivered(run_consumer) -> None:  # type: ignore[no-untyped-def]
    seen: asyncio.Queue[Delivery] = asyncio.Queue()

    async def handle(event: Ping, delivery: Delivery) -> None:
        await seen.put(delivery)

    spec = small_spec("rt_ok")
    bus = await run_consumer(spec, handle)
    await bus.publish(ping(), "rttest.ping.acme")
    delivery = await asyncio.wait_for(seen.get(), 5)
    assert delivery.num_delivered == 1

    async def acked() -> bool:
        info = await bus.connection.jsm().consumer_info(spec.stream, spec.durable_name)
        return info.num_ack_pending == 0 and info.ack_floor.stream_seq == 1

    await eventually(acked, 5.0, poll_s=0.02)
    info = await bus.connection.jsm().consumer_info(spec.stream, spec.durable_name)
    assert info.num_redelivered == 0 and info.num_pending == 0
    assert seen.empty()


async def test_transient_error_is_redelivered_then_succeeds(run_consumer) -> None:  # type: ignore[no-untyped-def]
    attempts: list[int] = []
    done = asyncio.Event()

    async def handle(event: Ping, delivery: Delivery) -> None:
        attempts.append(delivery.num_delivered)
        if delivery.num_delivered == 1:
            raise TransientError("provider down", retry_after=0.1)
        done.set()

    bus = await run_consumer(small_spec("rt_retry"), handle)
    await bus.publish(ping(), "rttest.ping.acme")
    await asyncio.wait_for(done.wait(), 5)
    assert attempts == [1, 2]


async def test_permanent_error_is_terminated_and_dead_lettered(run_consumer) -> None:  # type: ignore[no-untyped-def]
    calls: list[int] = []

    async def handle(event: Ping, delivery: Delivery) -> None:
        calls.append(delivery.num_delivered)
        raise PermanentError("plate format unknown")

    bus = await run_consumer(small_spec("rt_perm"), handle)
    event = ping()
    await bus.publish(event, "rttest.ping.acme", headers={"X-Origin": "webhook"})
    [copy] = await dlq_messages(bus, 1)

    assert copy.subject == "dlq.RTTEST.rt_perm"
    headers = copy.headers or {}
    assert headers["Cauce-Dlq-Reason"] == "plate format unknown"
    assert headers["Cauce-Dlq-Error-Type"] == "PermanentError"
    assert headers["Cauce-Dlq-Original-Subject"] == "rttest.ping.acme"
    assert headers["X-Origin"] == "webhook"
    record = DeadLettered.model_validate_json(copy.data)
    assert record.original_headers["Nats-Msg-Id"] == str(event.event_id)
    assert record.original_headers["X-Origin"] == "webhook"
    assert Ping.model_validate_json(record.original_payload) == event
    assert record.delivery_count == 1 and record.original_event_id == event.event_id
    assert calls == [1]  # terminated: never redelivered


@pytest.mark.parametrize(
    ("payload", "error_type"),
    [
        (b"{not json", "ValidationError"),
        (json.dumps({"text": "no envelope"}).encode(), "ValidationError"),
    ],
)
async def test_invalid_payload_is_dead_lettered_without_calling_the_handler(
    run_consumer,
    payload: bytes,
    error_type: str,  # type: ignore[no-untyped-def]
) -> None:
    async def handle(event: Ping, delivery: Delivery) -> None:
        raise AssertionError("handler must not see an invalid payload")

    bus = await run_consumer(small_spec("rt_invalid"), handle)
    await bus.connection.jetstream().publish(
        "rttest.ping.acme", payload, headers={"Nats-Msg-Id": "bad-1"}
    )
    [copy] = await dlq_messages(bus, 1)
    record = DeadLettered.model_validate_json(copy.data)
    assert record.original_payload == payload
    assert record.error_type == error_type
    assert record.reason.startswith("invalid Ping payload")
    assert record.original_headers == {"Nats-Msg-Id": "bad-1"}


async def test_always_transient_is_dead_lettered_after_max_deliver(run_consumer) -> None:  # type: ignore[no-untyped-def]
    attempts: list[int] = []

    async def handle(event: Ping, delivery: Delivery) -> None:
        attempts.append(delivery.num_delivered)
        raise RuntimeError("still broken")  # unexpected: treated as transient

    spec = small_spec("rt_exhaust")
    bus = await run_consumer(spec, handle)
    await bus.publish(ping(), "rttest.ping.acme")
    [copy] = await dlq_messages(bus, 1)
    record = DeadLettered.model_validate_json(copy.data)
    assert record.reason.startswith("max deliveries exhausted: RuntimeError: still broken")
    assert record.delivery_count == spec.max_deliver
    assert attempts == [1, 2, 3]


async def test_trace_continues_from_publish_into_the_handler(run_consumer, settings) -> None:  # type: ignore[no-untyped-def]
    setup_telemetry(settings)
    handled: asyncio.Queue[tuple[int, int]] = asyncio.Queue()

    async def handle(event: Ping, delivery: Delivery) -> None:
        ctx = trace.get_current_span().get_span_context()
        await handled.put((ctx.trace_id, ctx.span_id))

    bus = await run_consumer(small_spec("rt_trace"), handle)
    with trace.get_tracer("test").start_as_current_span("webhook") as root:
        await bus.publish(ping(), "rttest.ping.acme")
    trace_id, span_id = await asyncio.wait_for(handled.get(), 5)
    assert trace_id == root.get_span_context().trace_id
    assert span_id != root.get_span_context().span_id

    # A Go producer capitalises the header: still the same trace.
    go_trace = "0af7651916cd43dd8448eb211c80319c"
    await bus.connection.jetstream().publish(
        "rttest.ping.acme",
        ping().model_dump_json().encode(),
        headers={"Traceparent": f"00-{go_trace}-b7ad6b7169203331-01"},
    )
    trace_id, _ = await asyncio.wait_for(handled.get(), 5)
    assert f"{trace_id:032x}" == go_trace


async def test_a_slow_handler_is_not_redelivered_while_it_works(run_consumer) -> None:  # type: ignore[no-untyped-def]
    """The ack wait is 100 ms here; a 500 ms handler keeps its message by heartbeats,
    so a second replica pulling from the same durable never gets it meanwhile."""
    calls: list[int] = []
    done = asyncio.Event()

    async def handle(event: Ping, delivery: Delivery) -> None:
        calls.append(delivery.num_delivered)
        await asyncio.sleep(0.5)
        done.set()

    spec = small_spec("rt_slow")
    bus = await run_consumer(spec, handle)
    await run_consumer(spec, handle)  # a second replica
    await bus.publish(ping(), "rttest.ping.acme")
    await asyncio.wait_for(done.wait(), 5)

    async def acked() -> bool:
        info = await bus.connection.jsm().consumer_info(spec.stream, spec.durable_name)
        return info.num_ack_pending == 0

    await eventually(acked, 5.0, poll_s=0.02)
    info = await bus.connection.jsm().consumer_info(spec.stream, spec.durable_name)
    assert calls == [1]
    assert info.num_redelivered == 0


async def test_a_batch_runs_contacts_in_parallel_but_each_contact_in_order(
    settings: ServiceSettings,
) -> None:
    """Same subject (one contact): one at a time, in stream order; others concurrently."""
    spec = ConsumerSpec(
        durable_name="ordered",
        stream=TEST_STREAM.name,
        filter_subjects=("rttest.>",),
        description="runtime test consumer",
        max_deliver=3,
        # an ack wait well above the queueing time: this test is about order, not
        # about heartbeats racing a 100 ms ack wait on a loaded machine
        backoff=Backoff.of(5),
    )
    seen: dict[str, list[str]] = {"a": [], "b": []}
    running: dict[str, int] = {"a": 0, "b": 0}
    overlap_within_contact = False
    max_total_running = 0

    async def handle(event: Ping, delivery: Delivery) -> None:
        nonlocal overlap_within_contact, max_total_running
        contact = delivery.subject.rsplit(".", 1)[1]
        running[contact] += 1
        overlap_within_contact |= running[contact] > 1
        max_total_running = max(max_total_running, sum(running.values()))
        await asyncio.sleep(0.02)
        seen[contact].append(event.text)
        running[contact] -= 1

    publisher = Bus(settings, streams=(TEST_STREAM, DLQ))
    await publisher.start()
    for i in range(10):
        for contact in ("a", "b"):
            await publisher.publish(ping(f"{contact}{i}"), f"rttest.ordered.{contact}")
    await publisher.stop()

    bus = Bus(settings, streams=(TEST_STREAM, DLQ))
    consumer(bus, spec, Ping, batch_size=20, fetch_timeout=0.2)(handle)
    await bus.start()
    try:
        async with asyncio.timeout(10):
            while len(seen["a"]) + len(seen["b"]) < 20:
                await asyncio.sleep(0.02)
    finally:
        await bus.stop()
    assert seen["a"] == [f"a{i}" for i in range(10)]
    assert seen["b"] == [f"b{i}" for i in range(10)]
    assert not overlap_within_contact
    assert max_total_running == 2  # the two contacts did run side by side


async def test_every_retry_after_is_honoured_not_only_the_first(
    run_consumer,  # type: ignore[no-untyped-def]
) -> None:
    """Regression: with a JetStream BackOff on the consumer, nats-server 2.15 honours a
    nak's delay once and then waits for the ack wait (30 s here). Four deliveries 0.2 s
    apart must all happen long before the ack wait."""
    spec = ConsumerSpec(
        durable_name="retry_after",
        stream=TEST_STREAM.name,
        filter_subjects=("rttest.>",),
        description="runtime test consumer",
        ack_wait=timedelta(seconds=30),
        max_deliver=6,
    )
    deliveries: list[int] = []

    async def handle(event: Ping, delivery: Delivery) -> None:
        deliveries.append(delivery.num_delivered)
        if delivery.num_delivered < 4:
            raise TransientError("provider busy", retry_after=0.2)

    bus = await run_consumer(spec, handle)
    await bus.publish(ping(), "rttest.retry")
    async with asyncio.timeout(10):
        while deliveries[-1:] != [4]:
            await asyncio.sleep(0.05)
    assert deliveries == [1, 2, 3, 4]


async def test_a_redelivery_never_comes_before_retry_after(
    run_consumer,  # type: ignore[no-untyped-def]
) -> None:
    """A Retry-After is a minimum: a redelivery before it would be refused again. Each
    of 20 messages is nak'ed once with ``retry_after=0.5``; every second delivery must
    start at least 0.5 s after the first one started (jitter only adds). With jitter
    spread both ways (up to 20 % early), all 20 waiting long enough has a chance of
    about one in a million."""
    spec = dataclasses.replace(small_spec("min_wait"), ack_wait=timedelta(seconds=30))
    first: dict[str, float] = {}
    waited: dict[str, float] = {}

    async def handle(event: Ping, delivery: Delivery) -> None:
        now = time.monotonic()
        if delivery.num_delivered == 1:
            first[event.text] = now
            raise TransientError("provider busy", retry_after=0.5)
        waited[event.text] = now - first[event.text]

    bus = await run_consumer(spec, handle)
    for i in range(20):
        await bus.publish(ping(f"m{i}"), f"rttest.wait.m{i}")
    async with asyncio.timeout(15):
        while len(waited) < 20:
            await asyncio.sleep(0.05)
    assert min(waited.values()) >= 0.5, sorted(waited.values())[:3]


async def test_a_consumer_of_several_event_types_gets_each_as_its_model(
    settings: ServiceSettings,
) -> None:
    from cauce_contracts.crm import LeadStateChanged
    from cauce_contracts.payments import DebtLookedUp, DebtLookupFailed

    common = {
        "tenant_id": "acme",
        "correlation_id": "c-1",
        "channel": "whatsapp",
        "contact_key": "0" * 24,
        "request_id": "6f1d2c8e-3a55-4c1e-9a62-0c4a7f1d2b10",
        "placa": "HHO137",
    }
    seen: asyncio.Queue[object] = asyncio.Queue()

    async def handle(event: DebtLookedUp | DebtLookupFailed, delivery: Delivery) -> None:
        await seen.put(event)

    bus = Bus(settings, streams=(TEST_STREAM, DLQ))
    consumer(bus, small_spec("rt_multi"), (DebtLookedUp, DebtLookupFailed), fetch_timeout=0.2)(
        handle
    )
    await bus.start()
    try:
        await bus.publish(DebtLookedUp(**common), "rttest.found")
        await bus.publish(
            DebtLookupFailed(**common, reason="down", retryable=True), "rttest.failed"
        )
        stray = LeadStateChanged(
            tenant_id="acme",
            correlation_id="c-2",
            manychat_id="lead1",
            new_state="nuevo",
            changed_at="2025-06-05T12:45:00Z",
            source="agent",
        )
        await bus.publish(stray, "rttest.stray")
        first, second = await asyncio.wait_for(seen.get(), 5), await asyncio.wait_for(seen.get(), 5)
        assert (type(first), type(second)) == (DebtLookedUp, DebtLookupFailed)
        [copy] = await dlq_messages(bus, 1)
        record = DeadLettered.model_validate_json(copy.data)
        assert record.original_event_type == "crm.lead.state_changed"
        assert "not handled by rt_multi" in record.reason
        assert seen.empty()
    finally:
        await bus.stop()
