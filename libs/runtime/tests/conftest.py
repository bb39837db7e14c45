"""Shared helpers for the runtime tests: settings pointing at the test's nats-server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from cauce_contracts.envelope import Event
from cauce_contracts.streams import DLQ, StreamSpec
from cauce_runtime import Bus, ServiceSettings

#: A stream just for these tests, so they do not depend on the real contracts.
TEST_STREAM = StreamSpec("RTTEST", ("rttest.>",), "runtime test events", max_age=timedelta(hours=1))


class Ping(Event):
    EVENT_TYPE = "rttest.ping"

    text: str


@pytest.fixture
def settings(nats_url: str, tmp_path: Path) -> ServiceSettings:
    return ServiceSettings(
        environment="test",
        service_name="runtime-test",
        nats_url=nats_url,
        nats_connect_timeout=2.0,
        publish_timeout_s=1.0,
        shutdown_timeout_s=2.0,
        span_file=tmp_path / "spans.jsonl",
        _env_file=None,
    )


@pytest.fixture
async def bus(settings: ServiceSettings) -> AsyncIterator[Bus]:
    bus = Bus(settings, streams=(TEST_STREAM, DLQ))
    await bus.start()
    try:
        yield bus
    finally:
        await bus.stop()


def ping(text: str = "hola", **kwargs: object) -> Ping:
    return Ping(tenant_id="acme", correlation_id="corr-1", text=text, **kwargs)  # type: ignore[arg-type]
