"""The campaign benchmark (``python -m bench campaigns``): a bulk template campaign on one
WhatsApp number, what it does to the bot's replies on that number, what each send costs
in CPU, and how fast a recipients CSV loads.

Everything runs on 127.0.0.1 with free ports in a temporary directory: nats-server,
PostgreSQL (the devstack's embedded one), the provider sandbox (its Graph fake enforces
the number's limit with a sliding 1 s window, 130429 beyond it) and ``replicas``
notifier processes (``python -m cauce_notifier``) sending campaigns, plus one sending
the one-off requests (``CAUCE_SEND_LANES``, as README advises for big campaigns;
``--shared-lanes``: the ``replicas`` send both), sharing the database, the durable
consumers and so the number's limit. This process drives the campaign API
(``/api/v1/campaigns``) and publishes the replies. In order:

1. **Replies alone**: ``REPLY_RATE`` one-off ``outbound.message.requested`` texts per
   second for ``baseline_s``, to customers who wrote first (one inbound message each
   opens their 24 h window); latency = the request event's ``occurred_at`` to the fake
   receiving the send (outbox ``received_at``), p50/p99.
2. **The campaign**: ``recipients`` (20,000) uploaded as CSV and started on a number at
   ``limit`` (500/s; ``--number-rate``), the replies still trickling in; from the fake's
   receive timestamps: the steady-state rate (sends between the 5th and 95th percentile
   of the campaign's sends, every send on the number counted, as a fraction of the
   limit), the most sends (and refused attempts) in any 1 s window (``OVER LIMIT`` when
   above the limit), recipients sent more than once, start -> last send and ->
   COMPLETED. The replies published between the campaign's first and last send give the
   "during" latency.
3. **CPU per send**: each replica's user + system CPU time (psutil) from just before
   ``start`` to COMPLETED, over the sends on the number meanwhile (the replies are about
   1 % of them), and the JetStream redeliveries per send (a campaign send whose slot
   stays out of reach for 2 s, or a one-off send's, waits in JetStream: nak, delivered
   again). The same figures for a one-off backlog of the same size
   (``bench.notifier.measure``: requests of the campaign's template, so both figures are
   the same message, queued while the notifier's request consumer is paused, then
   drained at ``limit`` on another number, by one replica). The campaign's figure
   includes what only a campaign costs the notifier: the dispatcher's rounds and
   publishing each send's request event (in a one-off send the caller publishes it: the
   conversation service, here the bench), the gate's campaign check; and two replicas
   busy at once on two cores cost each send more than one does.
   ``python -m bench notifier`` runs one-off backlogs alone and prints no CPU figure; to
   compare one of its runs with this one, read the replicas' ``/proc/<pid>/stat``
   (utime + stime) before and after it, as :class:`Usage` does.
4. **CSV loading**: ``csv_rows`` (100,000) valid Colombian mobiles (+57300...) with two
   variables, uploaded to a new campaign through the API: seconds and rows/s, printed
   beside the 5 s target (the time is the API call's, as a client sees it).

Nothing is asserted: the figures are printed. ``--quick`` scales every count down.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench import notifier
from bench.campaign_report import (
    CampaignResult,
    CampaignsReport,
    CsvResult,
    Latency,
    OneOffResult,
    RepliesResult,
)
from bench.campaign_stack import (
    CAMPAIGN_ACCOUNT,
    LIMIT,
    MINTER,
    ONE_OFF_ACCOUNT,
    Stack,
    Usage,
    stack,
)
from bench.notifier import CONTACT_SECRET, CONTACTS, TENANT, Publisher, SendRun
from bench.send_timing import Span, duplicates, max_in_window, steady_span
from cauce_contracts.registry import subject_of
from cauce_contracts.streams import NOTIFIER_CAMPAIGN_SENDS, NOTIFIER_REQUESTS
from cauce_runtime import Bus, ServiceSettings

REPLY_RATE = 5.0
TEMPLATE = {"template_name": "pago_confirmado", "template_language": "es"}
#: Seconds a phase may take beyond ``count / limit`` before the bench gives up on it.
SLACK_S = 90.0


@dataclass(frozen=True)
class CampaignLoad:
    recipients: int = 20_000
    csv_rows: int = 100_000
    replicas: int = 2
    baseline_s: float = 20.0
    #: Also drain a one-off backlog of ``recipients`` requests of the campaign's template
    #: (CPU per send).
    one_off: bool = True
    #: ``replicas`` send campaigns only, one more replica the one-off sends (the
    #: replies, and the one-off backlog): the deployment README advises for campaigns.
    reply_lane: bool = True
    #: Both numbers' limit (sends a second; Meta's default throughput is 80).
    limit: float = LIMIT


def _say(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


def csv_of(count: int, prefix: str) -> bytes:
    """The seed's CSV: ``count`` numbers ``+57<prefix><7 digits>``, two variables each."""
    rows = (f"+57{prefix}{i:07d},Cliente {i},${i % 1000}.000" for i in range(count))
    return ("Recipient-Phone-Number,variable_1,variable_2\n" + "\n".join(rows) + "\n").encode()


def _epoch(entry: dict[str, Any]) -> float:
    return datetime.fromisoformat(entry["received_at"]).timestamp()


class Replies:
    """A steady trickle of one-off text requests to customers whose window is open."""

    def __init__(self, publisher: Publisher, limit: float) -> None:
        self.publisher = publisher
        self.run = SendRun("replies", CAMPAIGN_ACCOUNT, limit, 0)
        self.published: dict[str, float] = {}
        """Event id -> ``occurred_at`` (epoch seconds)."""

    async def trickle(self, stop: asyncio.Event) -> None:
        began, index = time.monotonic(), 0
        while not stop.is_set():
            delay = began + index / REPLY_RATE - time.monotonic()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                if stop.is_set():
                    return
            event = self.publisher.request(self.run, len(self.published))
            await self.publisher.bus.publish(event, subject_of(event))
            self.published[str(event.event_id)] = event.occurred_at.timestamp()
            index += 1

    async def for_seconds(self, seconds: float) -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(self.trickle(stop))
        await asyncio.sleep(seconds)
        stop.set()
        await task

    def latency(self, texts: list[dict[str, Any]], published: Span) -> Latency:
        """Of the replies published within ``published`` (epoch seconds)."""
        first_seen: dict[str, float] = {}
        for entry in texts:
            event_id = entry["payload"]["text"]["body"].removeprefix("bench ")
            first_seen.setdefault(event_id, _epoch(entry))
        return Latency.of(
            [
                (first_seen[event_id] - at) * 1000
                for event_id, at in self.published.items()
                if published.start <= at <= published.end and event_id in first_seen
            ]
        )


class Driver:
    """Talks to the running stack: the campaign API, the sandbox, the database."""

    def __init__(
        self,
        stack: Stack,
        api: httpx.AsyncClient,
        sandbox: httpx.AsyncClient,
        db: asyncpg.Connection,
    ) -> None:
        self.stack, self.api, self.sandbox, self.db = stack, api, sandbox, db

    async def accepted(self, account: str) -> int:
        metrics = (await self.sandbox.get("/sandbox/metrics")).json()["graph"]
        return int(metrics.get(account, {}).get("accepted", 0))

    async def until_accepted(self, account: str, count: int, within_s: float) -> None:
        """Until the fake accepted ``count`` sends from ``account`` (or ``within_s``)."""
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            if await self.accepted(account) >= count:
                return
            await asyncio.sleep(0.25)

    async def open_windows(self, publisher: Publisher) -> None:
        await publisher.open_windows(CAMPAIGN_ACCOUNT)
        deadline = time.monotonic() + 30
        query = "SELECT count(*) FROM notifier.contact_windows WHERE channel_account_id = $1"
        while await self.db.fetchval(query, CAMPAIGN_ACCOUNT) < CONTACTS:
            if time.monotonic() > deadline:
                raise TimeoutError("the notifier did not record the customers' windows")
            await asyncio.sleep(0.2)

    async def new_campaign(self, name: str, csv: bytes) -> tuple[str, float, dict[str, Any]]:
        """Create a campaign and upload ``csv``: its id, the upload's seconds, the answer."""
        body = {"name": name, "channel_account_id": CAMPAIGN_ACCOUNT, **TEMPLATE}
        created = await self.api.post("/api/v1/campaigns", json=body)
        created.raise_for_status()
        campaign_id: str = created.json()["id"]
        files = {"file": ("recipients.csv", csv, "text/csv")}
        began = time.perf_counter()
        loaded = await self.api.post(
            f"/api/v1/campaigns/{campaign_id}/upload-recipients", files=files
        )
        seconds = time.perf_counter() - began
        loaded.raise_for_status()
        answer: dict[str, Any] = loaded.json()
        return campaign_id, seconds, answer

    async def until_completed(self, campaign_id: str, within_s: float) -> float | None:
        """Poll the database (not the notifier, whose CPU is measured) for COMPLETED;
        the epoch seconds it was seen, or None after ``within_s``."""
        deadline = time.monotonic() + within_s
        query = "SELECT status FROM notifier.campaigns WHERE id = $1::uuid"
        while time.monotonic() < deadline:
            if await self.db.fetchval(query, campaign_id) == "COMPLETED":
                return time.time()
            await asyncio.sleep(0.1)
        return None

    async def outbox(self, account: str) -> list[dict[str, Any]]:
        params = {"phone_number_id": account, "include_refused": "true"}
        answer = await self.sandbox.get("/sandbox/outbox", params=params)
        entries: list[dict[str, Any]] = answer.json()
        return entries


@dataclass(frozen=True)
class CampaignRun:
    """What the bench saw while the campaign ran (epoch seconds, CPU seconds)."""

    started: float
    completed: float | None
    ended: float
    upload_s: float
    stats: dict[str, Any]
    before: Usage
    after: Usage


async def run_campaign(driver: Driver, replies: Replies, load: CampaignLoad) -> CampaignRun:
    """Upload, start, and wait for COMPLETED with the replies trickling meanwhile."""
    _say(
        f"campaigns: {load.recipients} recipients at {load.limit:g}/s, replies at {REPLY_RATE:g}/s"
    )
    csv = csv_of(load.recipients, "301")
    campaign_id, upload_s, loaded = await driver.new_campaign("Bench", csv)
    if loaded["accepted"] != load.recipients:
        raise RuntimeError(f"the campaign's CSV was not loaded whole: {loaded}")
    before_accepted = await driver.accepted(CAMPAIGN_ACCOUNT)
    stop = asyncio.Event()
    trickle = asyncio.create_task(replies.trickle(stop))
    before = await Usage.now(driver.stack, NOTIFIER_CAMPAIGN_SENDS.durable_name)
    started = time.time()
    (await driver.api.post(f"/api/v1/campaigns/{campaign_id}/start")).raise_for_status()
    completed = await driver.until_completed(campaign_id, load.recipients / load.limit + SLACK_S)
    after = await Usage.now(driver.stack, NOTIFIER_CAMPAIGN_SENDS.durable_name)
    ended = time.time()
    stop.set()
    await trickle
    expected = before_accepted + load.recipients + len(replies.published)
    await driver.until_accepted(CAMPAIGN_ACCOUNT, expected, within_s=10)
    stats = (await driver.api.get(f"/api/v1/campaigns/{campaign_id}/stats")).json()
    return CampaignRun(started, completed, ended, upload_s, stats, before, after)


def campaign_figures(
    run: CampaignRun, entries: list[dict[str, Any]], load: CampaignLoad
) -> CampaignResult:
    """The campaign's figures from the number's outbox (sends and refusals)."""
    entries = [e for e in entries if _epoch(e) >= run.started]
    sends = [e for e in entries if e["kind"] == "message"]
    templates = [e for e in sends if e["type"] == "template"]
    template_times = [_epoch(e) for e in templates]
    send_times = [_epoch(e) for e in sends]
    steady = steady_span(template_times)
    repeated, extra = duplicates(e["to"] for e in templates)
    in_cpu_window = sum(1 for at in send_times if at <= run.ended)
    return CampaignResult(
        recipients=load.recipients,
        limit=load.limit,
        replicas=load.replicas,
        reply_lane=load.reply_lane,
        sent_to=len({e["to"] for e in templates}),
        duplicate_recipients=repeated,
        duplicate_calls=extra,
        rate_limited=sum(1 for e in entries if e["kind"] == "refused" and e["status"] == 429),
        max_attempts_in_1s=max_in_window(_epoch(e) for e in entries),
        max_accepted_in_1s=max_in_window(send_times),
        steady_s=steady.seconds,
        steady_rate=steady.rate(send_times),
        steady_campaign_rate=steady.rate(template_times),
        start_to_last_send_s=max(template_times, default=run.started) - run.started,
        start_to_completed_s=None if run.completed is None else run.completed - run.started,
        upload_s=run.upload_s,
        notifier_sent=int(run.stats.get("sent", 0)),
        notifier_failed=int(run.stats.get("failed", 0)),
        cpu=run.after.since(run.before, in_cpu_window),
    )


def replies_figures(
    replies: Replies, entries: list[dict[str, Any]], alone: Span, campaign_from: float
) -> RepliesResult:
    """Reply latency with no campaign (published within ``alone``) and during it
    (published between the campaign's first and last send at the fake)."""
    texts = [e for e in entries if e["kind"] == "message" and e["type"] == "text"]
    campaign = [
        _epoch(e)
        for e in entries
        if e["kind"] == "message" and e["type"] == "template" and _epoch(e) >= campaign_from
    ]
    during = Span(min(campaign, default=0.0), max(campaign, default=0.0))
    return RepliesResult(
        rate=REPLY_RATE,
        alone=replies.latency(texts, alone),
        during=replies.latency(texts, during),
        duplicates=duplicates(e["payload"]["text"]["body"] for e in texts)[1],
    )


async def run_one_off(
    driver: Driver, publisher: Publisher, sandbox: httpx.AsyncClient, count: int, limit: float
) -> OneOffResult:
    _say(
        f"campaigns: one-off backlog of {count} {TEMPLATE['template_name']} requests"
        f" at {limit:g}/s (CPU per send)"
    )
    # the campaign's message, so the two CPU figures compare the same send
    template = (TEMPLATE["template_name"], TEMPLATE["template_language"])
    run = SendRun("one-off backlog", ONE_OFF_ACCOUNT, limit, count, template=template)
    durable = NOTIFIER_REQUESTS.durable_name
    before = await Usage.now(driver.stack, durable)
    result = await notifier.measure(run, publisher, sandbox, driver.db)
    after = await Usage.now(driver.stack, durable)
    return OneOffResult(result, after.since(before, result.accepted))


async def run_csv(driver: Driver, rows: int) -> CsvResult:
    _say(f"campaigns: uploading a {rows}-row CSV")
    _, seconds, loaded = await driver.new_campaign("Bench CSV", csv_of(rows, "300"))
    return CsvResult(rows, int(loaded["accepted"]), int(loaded["rejected"]), seconds)


async def _measure(stack: Stack, load: CampaignLoad) -> CampaignsReport:
    bus = Bus(ServiceSettings(environment="test", nats_url=stack.nats_url, _env_file=None))
    await bus.start()
    db = await asyncpg.connect(stack.database_url)
    headers = MINTER.headers(TENANT, ttl_s=3600)
    try:
        async with (
            httpx.AsyncClient(base_url=stack.notifier_urls[0], headers=headers, timeout=120) as api,
            httpx.AsyncClient(base_url=stack.sandbox_url, timeout=60) as sandbox,
        ):
            driver = Driver(stack, api, sandbox, db)
            (await api.post("/api/v1/templates/sync")).raise_for_status()
            publisher = Publisher(bus, CONTACT_SECRET.encode())
            await driver.open_windows(publisher)
            _say(f"campaigns: replies alone, {REPLY_RATE:g}/s for {load.baseline_s:g} s")
            replies = Replies(publisher, load.limit)
            alone_from = time.time()
            await replies.for_seconds(load.baseline_s)
            await driver.until_accepted(CAMPAIGN_ACCOUNT, len(replies.published), within_s=30)
            alone = Span(alone_from, time.time())
            ran = await run_campaign(driver, replies, load)
            entries = await driver.outbox(CAMPAIGN_ACCOUNT)
            campaign = campaign_figures(ran, entries, load)
            replies_result = replies_figures(replies, entries, alone, ran.started)
            one_off = (
                await run_one_off(driver, publisher, sandbox, load.recipients, load.limit)
                if load.one_off
                else None
            )
            csv = await run_csv(driver, load.csv_rows)
            return CampaignsReport(campaign, replies_result, one_off, csv)
    finally:
        await db.close()
        await bus.stop()


def run(load: CampaignLoad, workdir: Path) -> CampaignsReport:
    """Start the stack under ``workdir``, measure, stop every child."""
    with stack(workdir, load.replicas, reply_lane=load.reply_lane, limit=load.limit) as running:
        return asyncio.run(_measure(running, load))
