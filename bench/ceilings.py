"""The bus ceiling: nats-py publishing with PubAck and a unique ``Nats-Msg-Id``.

``concurrency`` publishers each keep one publish in flight for ``duration_s``, into a
stream provisioned with the INBOUND stream's config (file storage, same duplicate
window) under its own subjects, so the gateway's event count stays exact.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from dataclasses import dataclass, replace

import nats
import uvloop
from nats.errors import Error as NatsError

from bench.stats import RunResult, summarize
from cauce_contracts.streams import INBOUND
from cauce_runtime.bus import stream_config

BUS_STREAM = replace(INBOUND, name="BENCH_BUS", subjects=("bench.bus.>",), description="bench")
#: Conversation subjects the publishes spread over, as the gateway's events do.
SUBJECTS = 1000


@dataclass(frozen=True)
class BusLoad:
    nats_url: str
    concurrency: int
    duration_s: float
    payload_bytes: int
    publish_timeout_s: float = 2.0


async def ensure_bus_stream(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().add_stream(stream_config(BUS_STREAM))
    finally:
        await nc.close()


async def stream_messages(nats_url: str, stream: str) -> int:
    """How many messages ``stream`` holds now."""
    nc = await nats.connect(nats_url)
    try:
        info = await nc.jetstream().stream_info(stream)
        return int(info.state.messages)
    finally:
        await nc.close()


async def _run(spec: BusLoad) -> RunResult:
    nc = await nats.connect(spec.nats_url)
    js = nc.jetstream()
    payload = secrets.token_hex(spec.payload_bytes // 2 + 1)[: spec.payload_bytes].encode()
    tag = secrets.token_hex(6)
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    counter = 0
    deadline = 0.0

    async def publisher() -> None:
        nonlocal counter
        while time.perf_counter() < deadline:
            i = counter
            counter += 1
            sent = time.perf_counter()
            try:
                await js.publish(
                    f"bench.bus.{i % SUBJECTS}",
                    payload,
                    timeout=spec.publish_timeout_s,
                    headers={"Nats-Msg-Id": f"{tag}-{i}"},
                )
            except (NatsError, TimeoutError) as exc:
                outcomes[type(exc).__name__] += 1
                continue
            outcomes["ok"] += 1
            latencies.append(time.perf_counter() - sent)

    try:
        started = time.perf_counter()
        deadline = started + spec.duration_s
        await asyncio.gather(*(publisher() for _ in range(spec.concurrency)))
        elapsed = time.perf_counter() - started
    finally:
        await nc.close()
    return summarize("bus ceiling (nats-py)", latencies, outcomes, elapsed)


def run_bus_load(spec: BusLoad) -> RunResult:
    """Entry point of the bus-ceiling process."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(_run(spec))
