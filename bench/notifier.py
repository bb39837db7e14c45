"""The notifier benchmark: how close to a WhatsApp number's send limit the notifier runs,
whether it ever exceeds it, and how long a request waits when under it.

Everything runs on 127.0.0.1 with free ports in a temporary directory: nats-server,
PostgreSQL, the provider sandbox and the notifier (``python -m cauce_notifier``) as
child processes; this process publishes the requests. Each run uses its own sending
account (phone_number_id), so the fake Graph API measures each one apart:

- backlog runs: ``messages`` text requests queued for an account whose limit is 80/s
  (then 500/s), the fake enforcing the same limit with a sliding 1 s window (130429
  beyond it). Achieved rate = accepted sends over the time between the first and the
  last one, as a fraction of the limit (target 0.95-1.0). The backlog is queued in
  JetStream before the notifier takes any of it (its consumer paused while the bench
  publishes, as after a pause or an outage): the figure is the notifier's drain rate.
  Publishing 5,000 events on these same two cores takes about 1.5 s, during which
  the bench, nats-server and the notifier share the CPU; one more run at 500/s shows
  that case (publishing while the notifier sends), reported and not judged;
- a paced run at half the limit, where latency means something: from each request
  event's ``occurred_at`` to the fake receiving its provider call (outbox
  ``received_at``), p50/p99. (In a backlog run latency is the queue's length.)

Status callbacks are off (no gateway here) and the 24-hour window is opened for every
contact first, with one inbound message each, so every request is a plain text send.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.processes import Server
from bench.report import machine
from bench.stats import percentile
from cauce_contracts.inbound import InboundContact, InboundMessageReceived, TextMessage
from cauce_contracts.outbound import (
    OutboundContent,
    OutboundMessageRequested,
    TemplateComponent,
    TemplateContent,
    TextContent,
    TextParameter,
)
from cauce_contracts.registry import subject_of
from cauce_contracts.streams import NOTIFIER_REQUESTS
from cauce_contracts.subjects import Channel, contact_key
from cauce_devstack.servers import NatsServer, free_port
from cauce_devstack.servers.postgres import PostgresServer
from cauce_runtime import Bus, ServiceSettings

TENANT = "bench"
#: Dev-only values shared by the bench's sandbox and notifier (nothing real).
GRAPH_TOKEN = "bench-graph-token"  # noqa: S105
CONTACT_SECRET = "bench-contact-key-secret"  # noqa: S105
#: Distinct recipients per run: requests to one contact go in order, others in parallel.
CONTACTS = 200
#: Seconds a run may take beyond ``messages / limit`` before the bench gives up on it.
SLACK_S = 90.0
RATE_TARGET = (0.95, 1.0)
#: Backlog requests published concurrently (see :meth:`Publisher.publish`).
PUBLISH_AT_ONCE = 500


@dataclass(frozen=True)
class SendRun:
    name: str
    account_id: str
    limit: float
    messages: int
    #: Requests per second published; None publishes the whole backlog at once.
    publish_rate: float | None = None
    #: A backlog queued in full before the notifier takes any (judged); False publishes
    #: it while the notifier already sends (reported only).
    queued: bool = True
    #: ``(name, language)`` of a template with two body values to send instead of texts
    #: (the campaign bench compares a campaign send with a one-off send of its message).
    template: tuple[str, str] | None = None


@dataclass(frozen=True)
class SendResult:
    run: SendRun
    accepted: int
    rate_limited: int
    requests_sent: int
    """Distinct requests the fake accepted (``accepted - requests_sent`` = duplicates)."""
    elapsed_s: float
    max_in_1s: int
    p50_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rate(self) -> float:
        return (self.accepted - 1) / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def fraction(self) -> float:
        return self.rate / self.run.limit


@dataclass(frozen=True)
class NotifierReport:
    results: list[SendResult]
    delivery_batch_size: int
    replicas: int = 1


def plan(messages: int) -> list[SendRun]:
    paced = max(200, messages // 5)
    return [
        SendRun("backlog at 80/s", "100000000000801", 80, messages),
        SendRun("backlog at 500/s", "100000000000802", 500, messages),
        SendRun("500/s while publishing", "100000000000804", 500, messages, queued=False),
        SendRun("paced 40/s, limit 80/s", "100000000000803", 80, paced, publish_rate=40),
    ]


def recipient(index: int) -> str:
    return f"5730020{index % CONTACTS:05d}"


def _say(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


class Publisher:
    """Publishes the bench's events on the stack's NATS."""

    def __init__(self, bus: Bus, secret: bytes) -> None:
        self.bus = bus
        self.secret = secret

    async def open_windows(self, account_id: str) -> None:
        """One inbound message per contact: the notifier may then send them text."""
        for index in range(CONTACTS):
            address = recipient(index)
            event = InboundMessageReceived(
                tenant_id=TENANT,
                correlation_id=f"bench-in-{index}",
                channel=Channel.WHATSAPP,
                channel_account_id=account_id,
                provider_message_id=f"wamid.BENCHIN{account_id}{index}",
                contact=InboundContact(address=address),
                contact_key=contact_key(address, self.secret),
                sent_at=datetime.now(UTC),
                message=TextMessage(body="hola"),
            )
            await self.bus.publish(event, subject_of(event))

    def request(self, run: SendRun, index: int) -> OutboundMessageRequested:
        address = recipient(index)
        event_id = uuid.uuid4()
        return OutboundMessageRequested(
            event_id=event_id,
            tenant_id=TENANT,
            correlation_id=f"bench-{index}",
            channel=Channel.WHATSAPP,
            contact_key=contact_key(address, self.secret),
            channel_account_id=run.account_id,
            recipient=address,
            content=_content(run, f"bench {event_id}"),
        )

    async def publish(self, run: SendRun) -> dict[str, datetime]:
        """Publish the run's requests; return each one's ``occurred_at`` by event id.

        A backlog goes out as fast as JetStream acknowledges it (``PUBLISH_AT_ONCE``
        publishes in flight): one publish at a time took seconds, during which this
        process competed with the notifier for the same two cores and the first
        seconds of every backlog run measured the bench more than the notifier.
        """
        if run.publish_rate is None:
            events = [self.request(run, index) for index in range(run.messages)]
            async with self.notifier_held_back() if run.queued else contextlib.nullcontext():
                for start in range(0, len(events), PUBLISH_AT_ONCE):
                    chunk = events[start : start + PUBLISH_AT_ONCE]
                    await asyncio.gather(*(self.bus.publish(e, subject_of(e)) for e in chunk))
        else:
            events, began = [], time.monotonic()
            for index in range(run.messages):
                delay = began + index / run.publish_rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                event = self.request(run, index)  # occurred_at: when it is published
                await self.bus.publish(event, subject_of(event))
                events.append(event)
        return {str(event.event_id): event.occurred_at for event in events}

    @contextlib.asynccontextmanager
    async def notifier_held_back(self) -> AsyncIterator[None]:
        """The notifier's request consumer paused while a backlog is queued, resumed
        after (JetStream consumer pause; it lapses by itself after five minutes)."""
        js = self.bus.connection.jetstream()
        stream, durable = NOTIFIER_REQUESTS.stream, NOTIFIER_REQUESTS.durable_name
        until = datetime.now(UTC) + timedelta(minutes=5)
        await js.pause_consumer(stream, durable, until.isoformat())
        try:
            yield
        finally:
            await js.resume_consumer(stream, durable)


def _content(run: SendRun, marker: str) -> OutboundContent:
    """A text of ``marker``, or the run's template with ``marker`` as its first value."""
    if run.template is None:
        return TextContent(body=marker)
    name, language = run.template
    values = [TextParameter(text=marker), TextParameter(text="$150.000")]
    return TemplateContent(
        name=name, language=language, components=[TemplateComponent(type="body", parameters=values)]
    )


def _marker_of(payload: dict[str, Any]) -> str:
    """The marker :func:`_content` put in a request, from the payload the fake received."""
    if payload["type"] == "template":
        return str(payload["template"]["components"][0]["parameters"][0]["text"])
    return str(payload["text"]["body"])


async def _graph_metrics(http: httpx.AsyncClient, account_id: str) -> dict[str, Any]:
    metrics: dict[str, Any] = (await http.get("/sandbox/metrics")).json()
    number: dict[str, Any] = metrics["graph"].get(account_id, {})
    return number


async def measure(
    run: SendRun, publisher: Publisher, http: httpx.AsyncClient, db: asyncpg.Connection
) -> SendResult:
    await publisher.open_windows(run.account_id)
    deadline = time.monotonic() + 30
    while (
        await db.fetchval(
            "SELECT count(*) FROM notifier.contact_windows WHERE channel_account_id = $1",
            run.account_id,
        )
        < CONTACTS
    ):
        if time.monotonic() > deadline:
            raise TimeoutError("the notifier did not record the contacts' windows")
        await asyncio.sleep(0.2)

    occurred = await publisher.publish(run)
    deadline = time.monotonic() + run.messages / min(run.limit, run.publish_rate or run.limit)
    deadline += SLACK_S
    while (await _graph_metrics(http, run.account_id)).get("accepted", 0) < run.messages:
        if time.monotonic() > deadline:
            break  # report what got through
        await asyncio.sleep(0.5)

    metrics = await _graph_metrics(http, run.account_id)
    outbox: list[dict[str, Any]] = (
        await http.get("/sandbox/outbox", params={"phone_number_id": run.account_id})
    ).json()
    latencies: list[float] = []
    seen: set[str] = set()
    for entry in outbox:
        if entry["kind"] != "message":
            continue
        event_id = _marker_of(entry["payload"]).removeprefix("bench ")
        if event_id in seen:
            continue  # a duplicate provider call: its latency is not the request's
        seen.add(event_id)
        received = datetime.fromisoformat(entry["received_at"])
        latencies.append((received - occurred[event_id]).total_seconds() * 1000)
    latencies.sort()
    first, last = metrics.get("first_accepted_at"), metrics.get("last_accepted_at")
    return SendResult(
        run=run,
        accepted=int(metrics.get("accepted", 0)),
        rate_limited=int(metrics.get("rate_limited", 0)),
        requests_sent=len(seen),
        elapsed_s=(last - first) if first is not None and last is not None else 0.0,
        max_in_1s=int(metrics.get("max_in_any_1s_window", 0)),
        p50_ms=percentile(latencies, 0.50),
        p99_ms=percentile(latencies, 0.99),
        max_ms=latencies[-1] if latencies else 0.0,
    )


async def _measure_all(
    runs: list[SendRun], nats_url: str, sandbox_url: str, database_url: str
) -> list[SendResult]:
    bus = Bus(ServiceSettings(environment="test", nats_url=nats_url, _env_file=None))
    await bus.start()
    db = await asyncpg.connect(database_url)
    try:
        publisher = Publisher(bus, CONTACT_SECRET.encode())
        async with httpx.AsyncClient(base_url=sandbox_url, timeout=30) as http:
            results = []
            for run in runs:
                _say(f"notifier: {run.name}, {run.messages} text messages")
                results.append(await measure(run, publisher, http, db))
            return results
    finally:
        await db.close()
        await bus.stop()


def run(
    messages: int, workdir: Path, delivery_batch_size: int = 64, replicas: int = 1
) -> NotifierReport:
    """Start the stack under ``workdir`` with ``replicas`` notifier processes (sharing
    the database, the durable consumer and so the accounts' rate limits), run
    :func:`plan`, stop every child."""
    runs = plan(messages)
    nats_server = NatsServer(workdir / "nats")
    postgres = PostgresServer(workdir / "pg-data", log_file=workdir / "postgres.log")
    sandbox: Server | None = None
    notifiers: list[Server] = []
    nats_server.start()
    try:
        postgres.start()
        sandbox_port = free_port()
        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        sandbox = Server(
            "sandbox",
            "cauce_devstack.sandbox",
            {
                "CAUCE_SANDBOX_ACCESS_LOG": "false",
                "CAUCE_SANDBOX_PORT": str(sandbox_port),
                "CAUCE_SANDBOX_GRAPH_TOKENS": json.dumps({r.account_id: GRAPH_TOKEN for r in runs}),
                "CAUCE_SANDBOX_GRAPH_RATE_LIMITS": json.dumps(
                    {r.account_id: r.limit for r in runs}
                ),
                "CAUCE_SANDBOX_STATUS_CALLBACKS_ENABLED": "false",
                "CAUCE_SANDBOX_SERVICE_WINDOW_ENFORCED": "false",
            },
            workdir,
        )
        accounts = [
            {
                "tenant_id": TENANT,
                "channel": "whatsapp",
                "account_id": r.account_id,
                "rate_per_second": r.limit,
                "credentials": {"access_token": GRAPH_TOKEN},
            }
            for r in runs
        ]
        for replica in range(replicas):
            port = free_port()
            notifiers.append(
                Server(
                    f"notifier-{replica}",
                    "cauce_notifier",
                    {
                        "CAUCE_ENVIRONMENT": "test",
                        "CAUCE_PORT": str(port),
                        "CAUCE_NATS_URL": nats_server.url,
                        "CAUCE_POSTGRES_URL": postgres.app_url,
                        "CAUCE_GRAPH_BASE_URL": f"{sandbox_url}/graph",
                        "CAUCE_ACCOUNTS": json.dumps(accounts),
                        "CAUCE_CONTACT_KEY_SECRET": CONTACT_SECRET,
                        "CAUCE_DELIVERY_BATCH_SIZE": str(delivery_batch_size),
                        "CAUCE_SPAN_FILE": str(workdir / f"notifier-{replica}-spans.jsonl"),
                        "CAUCE_LOG_LEVEL": "WARNING",
                    },
                    workdir,
                )
            )
            notifiers[-1].wait_ready(f"http://127.0.0.1:{port}/readyz")
        sandbox.wait_ready(f"{sandbox_url}/sandbox/metrics")
        results = asyncio.run(_measure_all(runs, nats_server.url, sandbox_url, postgres.app_url))
        return NotifierReport(
            results=results, delivery_batch_size=delivery_batch_size, replicas=replicas
        )
    finally:
        for server in (*notifiers, sandbox):
            if server is not None:
                server.stop()
        postgres.stop()
        nats_server.stop()


def _verdict(ok: bool) -> str:
    return "met" if ok else "not met"


def render(report: NotifierReport) -> str:
    header = (
        f"  {'run':<24}{'limit/s':>8}{'msgs':>7}{'sent':>7}{'429s':>6}{'dup':>5}"
        f"{'msg/s':>8}{'of limit':>9}{'max 1 s':>8}{'p50 ms':>9}{'p99 ms':>9}"
    )
    lines = [
        "cauce notifier benchmark",
        f"machine: {machine()}",
        "",
        "text messages from one WhatsApp account per run to the sandbox's Graph API, which",
        "enforces the same limit (sliding 1 s window); sent = requests the fake accepted,",
        "dup = provider calls beyond one per request; latency = request event to provider call",
        f"(notifier replicas: {report.replicas}, delivery batch: {report.delivery_batch_size})",
        header,
    ]
    for r in report.results:
        lines.append(
            f"  {r.run.name:<24}{r.run.limit:>8g}{r.run.messages:>7}{r.requests_sent:>7}"
            f"{r.rate_limited:>6}{r.accepted - r.requests_sent:>5}{r.rate:>8.1f}"
            f"{r.fraction:>9.3f}{r.max_in_1s:>8}{r.p50_ms:>9.1f}{r.p99_ms:>9.1f}"
        )
    backlog = [r for r in report.results if r.run.publish_rate is None]
    paced = [r for r in report.results if r.run.publish_rate is not None]
    low, high = RATE_TARGET
    lines.append("")
    for r in backlog:
        verdict = (
            f"(target {low}-{high}): {_verdict(low <= r.fraction <= high)}"
            if r.run.queued
            else "(not judged: the bench publishes on the same cores meanwhile)"
        )
        lines.append(f"achieved rate, {r.run.name}: {r.fraction:.3f} of the limit {verdict}")
    over = [r.run.name for r in report.results if r.max_in_1s > r.run.limit]
    lines.append(
        "max sends in any 1 s window <= the limit: "
        + (_verdict(True) if not over else f"not met ({', '.join(over)})")
    )
    for r in paced:
        lines.append(
            f"latency under the limit ({r.run.name}): p50 {r.p50_ms:.1f} ms, "
            f"p99 {r.p99_ms:.1f} ms, max {r.max_ms:.1f} ms"
        )
    lost = [r.run.name for r in report.results if r.requests_sent < r.run.messages]
    if lost:
        lines.append(f"not all requests were sent in time: {', '.join(lost)}")
    return "\n".join(lines)
