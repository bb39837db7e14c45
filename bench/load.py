"""The HTTP load generator: signed WhatsApp text webhooks, closed-loop or fixed-rate.

Runs in its own process (see :func:`bench.processes.run_isolated`) on uvloop with one
aiohttp session whose connector allows ``concurrency`` keep-alive connections. Bodies
are built and signed before the clock starts, each with a unique wamid so every
request is a new event (no JetStream dedupe).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from dataclasses import dataclass
from typing import Literal

import aiohttp
import uvloop

from bench.stats import RunResult, summarize
from cauce_devstack.sandbox.meta import webhooks as meta

PHONE_NUMBER_ID = "100000000000001"
DISPLAY_NUMBER = "15550000001"
WABA_ID = "200000000000001"
#: Distinct customers the bodies cycle through (events spread over conversation subjects).
CUSTOMERS = 1000
_ID_MARK = b"@@WAMID@@"
_WA_MARK = b"@@WAID@@"


@dataclass(frozen=True)
class HttpLoad:
    """One HTTP load run: ``closed`` keeps ``concurrency`` requests in flight for
    ``duration_s`` (or until ``max_requests``); ``fixed`` sends ``rate`` req/s on a wall
    clock schedule for ``duration_s`` and measures latency from the scheduled time."""

    name: str
    #: Requests go round-robin over these (one URL per server process: a balancer's view).
    urls: tuple[str, ...]
    app_secret: str
    mode: Literal["closed", "fixed"]
    concurrency: int
    duration_s: float
    rate: float = 0.0
    max_requests: int = 100_000
    warmup_requests: int = 0
    request_timeout_s: float = 10.0


def build_bodies(count: int, app_secret: str) -> list[tuple[bytes, str]]:
    """``count`` signed webhook bodies, each one text message with a unique wamid."""
    message = meta.inbound_message(
        _WA_MARK.decode(), meta.text("hola, quiero pagar mi cuota"), message_id=_ID_MARK.decode()
    )
    value = meta.messages_value(
        PHONE_NUMBER_ID, DISPLAY_NUMBER, [meta.contact(_WA_MARK.decode(), "Ana Bench")], [message]
    )
    template = meta.encode(meta.webhook([value], waba_id=WABA_ID))
    run_tag = secrets.token_hex(6)
    bodies = []
    for i in range(count):
        wamid = f"wamid.bench{run_tag}{i:010d}".encode()
        wa_id = str(573000000000 + i % CUSTOMERS).encode()
        body = template.replace(_ID_MARK, wamid).replace(_WA_MARK, wa_id)
        bodies.append((body, meta.sign(body, app_secret)))
    return bodies


def build_status_batch(statuses: int, app_secret: str) -> tuple[bytes, str]:
    """One signed webhook carrying ``statuses`` delivery statuses (a campaign's burst),
    each for a distinct message, so every one is a new event."""
    run_tag = secrets.token_hex(6)
    items = [
        meta.status(f"wamid.batch{run_tag}{i:06d}", "delivered", str(573000000000 + i))
        for i in range(statuses)
    ]
    value = meta.statuses_value(PHONE_NUMBER_ID, DISPLAY_NUMBER, items)
    body = meta.encode(meta.webhook([value], waba_id=WABA_ID))
    return body, meta.sign(body, app_secret)


async def _post(session: aiohttp.ClientSession, url: str, body: bytes, signature: str) -> str:
    headers = {"Content-Type": "application/json", meta.SIGNATURE_HEADER: signature}
    try:
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            return "ok" if response.status == 200 else str(response.status)
    except TimeoutError:
        return "timeout"
    except aiohttp.ClientError as exc:
        return type(exc).__name__


async def _closed(
    spec: HttpLoad, session: aiohttp.ClientSession, bodies: list[tuple[bytes, str]]
) -> RunResult:
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    next_index = spec.warmup_requests
    deadline = 0.0

    async def worker() -> None:
        nonlocal next_index
        while next_index < len(bodies) and time.perf_counter() < deadline:
            body, signature = bodies[next_index]
            url = spec.urls[next_index % len(spec.urls)]
            next_index += 1
            sent = time.perf_counter()
            outcome = await _post(session, url, body, signature)
            outcomes[outcome] += 1
            if outcome == "ok":
                latencies.append(time.perf_counter() - sent)

    started = time.perf_counter()
    deadline = started + spec.duration_s
    await asyncio.gather(*(worker() for _ in range(spec.concurrency)))
    elapsed = time.perf_counter() - started
    return summarize(spec.name, latencies, outcomes, elapsed, exhausted=next_index >= len(bodies))


async def _fixed(
    spec: HttpLoad, session: aiohttp.ClientSession, bodies: list[tuple[bytes, str]]
) -> RunResult:
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    todo = bodies[spec.warmup_requests :]
    # perf_counter, not loop.time(): uvloop's clock has millisecond resolution
    clock = time.perf_counter

    async def one(url: str, body: bytes, signature: str, scheduled: float) -> None:
        outcome = await _post(session, url, body, signature)
        outcomes[outcome] += 1
        if outcome == "ok":
            # from the scheduled send time: a stalled server cannot hide its queue
            latencies.append(clock() - scheduled)

    tasks: list[asyncio.Task[None]] = []
    started = clock()
    for i, (body, signature) in enumerate(todo):
        scheduled = started + i / spec.rate
        delay = scheduled - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        url = spec.urls[i % len(spec.urls)]
        tasks.append(asyncio.create_task(one(url, body, signature, scheduled)))
    await asyncio.gather(*tasks)
    elapsed = clock() - started
    return summarize(spec.name, latencies, outcomes, elapsed)


async def _run(spec: HttpLoad) -> RunResult:
    fixed = spec.mode == "fixed"
    count = round(spec.rate * spec.duration_s) if fixed else spec.max_requests
    bodies = build_bodies(spec.warmup_requests + count, spec.app_secret)
    connector = aiohttp.TCPConnector(limit=spec.concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=spec.request_timeout_s)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        warmup: Counter[str] = Counter()
        for start in range(0, spec.warmup_requests, spec.concurrency):
            batch = bodies[start : min(start + spec.concurrency, spec.warmup_requests)]
            outcomes = await asyncio.gather(
                *(
                    _post(session, spec.urls[i % len(spec.urls)], b, s)
                    for i, (b, s) in enumerate(batch)
                )
            )
            warmup.update(outcomes)
        run = _fixed if spec.mode == "fixed" else _closed
        result = await run(spec, session, bodies)
    return _with_warmup(result, warmup)


def _with_warmup(result: RunResult, warmup: Counter[str]) -> RunResult:
    errors = dict(result.errors)
    for key, count in warmup.items():
        if key != "ok":
            errors[f"{key} (warm-up)"] = errors.get(f"{key} (warm-up)", 0) + count
    return RunResult(**{**result.__dict__, "warmup_ok": warmup["ok"], "errors": errors})


def run_http_load(spec: HttpLoad) -> RunResult:
    """Entry point of the load process."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(_run(spec))


@dataclass(frozen=True)
class BatchLoad:
    """``posts`` webhooks of ``statuses`` statuses each, one at a time (a burst's latency)."""

    name: str
    url: str
    app_secret: str
    statuses: int
    posts: int
    request_timeout_s: float = 30.0


async def _run_batches(spec: BatchLoad) -> RunResult:
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    bodies = [build_status_batch(spec.statuses, spec.app_secret) for _ in range(spec.posts)]
    timeout = aiohttp.ClientTimeout(total=spec.request_timeout_s)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        started = time.perf_counter()
        for body, signature in bodies:
            sent = time.perf_counter()
            outcome = await _post(session, spec.url, body, signature)
            outcomes[outcome] += 1
            if outcome == "ok":
                latencies.append(time.perf_counter() - sent)
        elapsed = time.perf_counter() - started
    return summarize(spec.name, latencies, outcomes, elapsed)


def run_batch_load(spec: BatchLoad) -> RunResult:
    """Entry point of the batch process."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(_run_batches(spec))
