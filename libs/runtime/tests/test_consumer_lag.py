"""Consumer lag, ack pending, redeliveries and stream sizes reach /metrics from a real
nats-server: the gauges follow what JetStream says about the durable; the counters
alerts watch start at zero."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from cauce_contracts.streams import DLQ
from cauce_runtime import Bus, ConsumerSpec, Delivery, ServiceSettings, consumer, create_service_app
from cauce_runtime.telemetry.metrics import FAILURE_KINDS

from .conftest import TEST_STREAM, Ping, ping
from .test_app import running

SPEC = ConsumerSpec(
    durable_name="rt_lagging",
    stream=TEST_STREAM.name,
    filter_subjects=("rttest.>",),
    description="a durable nobody consumes in this process",
    ack_wait=timedelta(seconds=30),
)


def sample(text: str, metric: str, **labels: str) -> float | None:
    """The value of the ``metric`` sample whose labels include ``labels`` (None when
    absent), read with prometheus_client's own parser."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == metric and labels.items() <= found.labels.items():
                return float(found.value)
    return None


@pytest.fixture
async def scrape(
    settings: ServiceSettings,
) -> AsyncIterator[tuple[Bus, Callable[[], Awaitable[str]]]]:
    bus = Bus(settings, streams=(TEST_STREAM, DLQ), consumers=(SPEC,), lag_poll_interval_s=0.05)
    async with running(create_service_app(settings, bus=bus)) as client:

        async def metrics() -> str:
            return (await client.get("/metrics")).text

        yield bus, metrics


async def until(
    metrics: Callable[[], Awaitable[str]], metric: str, value: float, **labels: str
) -> str:
    """Scrape until ``metric`` shows ``value`` (the poller runs every 50 ms)."""
    text = ""
    try:
        async with asyncio.timeout(5):
            while sample(text := await metrics(), metric, **labels) != value:
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"{metric}{labels} never became {value}:\n{text}") from None
    return text


async def test_lag_gauges_follow_the_durable(
    scrape: tuple[Bus, Callable[[], Awaitable[str]]],
) -> None:
    bus, metrics = scrape
    ours = {"stream": TEST_STREAM.name, "consumer": SPEC.durable_name}
    await until(metrics, "cauce_consumer_pending", 0, **ours)

    for n in range(3):
        await bus.publish(ping(f"m{n}"), f"rttest.ping.c{n}")
    text = await until(metrics, "cauce_consumer_pending", 3, **ours)
    assert sample(text, "cauce_consumer_ack_pending", **ours) == 0
    assert sample(text, "cauce_stream_messages", stream=TEST_STREAM.name) == 3
    assert (sample(text, "cauce_stream_size_bytes", stream=TEST_STREAM.name) or 0) > 0
    assert sample(text, "cauce_stream_messages", stream=DLQ.name) == 0

    # Two fetched: one acked, one nak'ed; then the rest fetched and left unacked.
    sub = await bus.connection.jetstream().pull_subscribe_bind(
        durable=SPEC.durable_name, stream=SPEC.stream
    )
    first, second = await sub.fetch(2, timeout=2)
    await first.ack()
    await second.nak()
    rest = await sub.fetch(2, timeout=2)
    while len(rest) < 2:  # the nak'ed one may come back a moment later
        rest += await sub.fetch(1, timeout=2)
    assert sorted(m.metadata.num_delivered for m in rest) == [1, 2]
    await until(metrics, "cauce_consumer_pending", 0, **ours)
    # the first ack is fire-and-forget: the poller may read the durable before it lands
    # ... and each reading is taken on its own poll, so each gauge is awaited alone
    await until(metrics, "cauce_consumer_ack_pending", 2, **ours)
    text = await until(metrics, "cauce_consumer_redelivered", 1, **ours)
    assert sample(text, "cauce_consumer_pending", **ours) == 0
    for message in rest:
        await message.ack()
    await sub.unsubscribe()
    text = await until(metrics, "cauce_consumer_ack_pending", 0, **ours)
    await until(metrics, "cauce_consumer_redelivered", 0, **ours)


async def test_readings_are_dropped_when_the_bus_stops(
    scrape: tuple[Bus, Callable[[], Awaitable[str]]],
) -> None:
    bus, metrics = scrape
    ours = {"stream": TEST_STREAM.name, "consumer": SPEC.durable_name}
    await until(metrics, "cauce_consumer_pending", 0, **ours)
    await bus.stop()
    # Stale values would look current on a dashboard: the series go away instead.
    assert sample(await metrics(), "cauce_consumer_pending", **ours) is None


async def test_the_counters_alerts_watch_start_at_zero(settings: ServiceSettings) -> None:
    """``increase()`` misses the first event of a series that appears with it: a pod's
    first dead letter would raise no alert. The consumer's counters exist at 0 from its
    start."""
    spec = ConsumerSpec(
        durable_name="rt_preset",
        stream=TEST_STREAM.name,
        filter_subjects=("rttest.preset.>",),
        description="a consumer whose counters start at zero",
        ack_wait=timedelta(seconds=30),
    )
    bus = Bus(settings, streams=(TEST_STREAM, DLQ))

    async def handle(event: Ping, delivery: Delivery) -> None:
        raise AssertionError("nothing is published to it")

    consumer(bus, spec, Ping)(handle)
    async with running(create_service_app(settings, bus=bus)) as client:
        text = (await client.get("/metrics")).text
    ours = {"stream": TEST_STREAM.name, "consumer": "rt_preset"}
    assert sample(text, "cauce_consumer_dead_lettered_total", **ours) == 0
    for kind in FAILURE_KINDS:
        assert sample(text, "cauce_consumer_failed_total", kind=kind, **ours) == 0


async def test_storage_gauges_read_the_account_against_the_server_limit(
    settings: ServiceSettings,
) -> None:
    """The account's file storage, and the server limit from settings (JetStream tells
    clients no limit for an account without one of its own)."""
    limited = settings.model_copy(update={"jetstream_max_storage_bytes": 8 * 1024**3})
    bus = Bus(limited, streams=(TEST_STREAM, DLQ), lag_poll_interval_s=0.05)
    async with running(create_service_app(limited, bus=bus)) as client:
        for n in range(5):
            await bus.publish(ping("x" * 1000), f"rttest.ping.s{n}")

        async def metrics() -> str:
            return (await client.get("/metrics")).text

        await until(metrics, "cauce_jetstream_storage_limit_bytes", 8 * 1024**3)
        async with asyncio.timeout(5):  # JetStream updates the account's usage lazily
            while (sample(await metrics(), "cauce_jetstream_storage_used_bytes") or 0) < 5000:
                await asyncio.sleep(0.05)
        await bus.stop()
        # gone with the connection, like every JetStream reading
        assert sample(await metrics(), "cauce_jetstream_storage_used_bytes") is None


async def test_no_limit_is_published_when_none_is_known(
    scrape: tuple[Bus, Callable[[], Awaitable[str]]],
) -> None:
    bus, metrics = scrape
    await bus.publish(ping(), "rttest.ping.nolimit")
    text = await metrics()
    for _ in range(100):
        if sample(text, "cauce_jetstream_storage_used_bytes"):
            break
        await asyncio.sleep(0.05)
        text = await metrics()
    assert (sample(text, "cauce_jetstream_storage_used_bytes") or 0) > 0
    assert sample(text, "cauce_jetstream_storage_limit_bytes") is None
