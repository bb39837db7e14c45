"""kill -9 of the notifier during a burst of 500 requests: after a restart on the same
PostgreSQL and NATS every request is delivered exactly once, even those Meta had taken
when the process died but whose answers it never read (delivery.py: they wait for the
status webhook naming them, which the real gateway brings back).

The notifier runs as a real child process (``python -m cauce_notifier``) so the kill
is a real SIGKILL: no shutdown hook, no ack, no claim released. The sandbox's Graph
fake and the gateway are served in the test's loop; the fake answers each send 300 ms
after taking it, so many sends are taken and unanswered at the kill, and its outbox is
the ground truth of what Meta got.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from cauce_contracts.outbound import (
    OutboundMessageRequested,
    TemplateComponent,
    TemplateContent,
    TextParameter,
)
from cauce_contracts.registry import subject_of
from cauce_contracts.subjects import Channel, contact_key
from cauce_devstack.sandbox.app import create_app as create_sandbox
from cauce_devstack.servers import NatsServer, free_port
from cauce_devstack.testing import serving
from cauce_runtime import Bus, ServiceSettings

from .conftest import CONTACT_SECRET, PHONE_NUMBER_ID, TENANT, status_webhooks
from .notifier_process import NotifierProcess, notifier_env

pytestmark = pytest.mark.slow

REQUESTS = 500
CONTACTS = 50
RATE_PER_SECOND = 200
#: Kill once the fake has accepted this many (mid-burst: 500 take ~2.5 s at 200/s; the
#: requests are queued before the notifier starts, so the poll runs all through them).
KILL_AFTER_ACCEPTED = 100
#: The dead process's claims and unacked deliveries lapse after CLAIM_S (notifier_process).
RECOVERY_TIMEOUT_S = 55.0
#: Meta's answer to each send comes this long after it took the send.
ANSWER_LAG_MS = 300


def recipient(index: int) -> str:
    return f"5730010{index % CONTACTS:05d}"


def request(index: int) -> OutboundMessageRequested:
    """Request ``index``: a template (no 24-hour window needed) whose one body parameter
    carries the index, so each provider call at the fake names its request."""
    to = recipient(index)
    return OutboundMessageRequested(
        tenant_id=TENANT,
        correlation_id=f"crash-{index}",
        channel=Channel.WHATSAPP,
        contact_key=contact_key(to, CONTACT_SECRET),
        channel_account_id=PHONE_NUMBER_ID,
        recipient=to,
        content=TemplateContent(
            name="bienvenida",
            language="es",
            components=[
                TemplateComponent(type="body", parameters=[TextParameter(text=f"req-{index}")])
            ],
        ),
    )


def request_index(entry: dict[str, Any]) -> int:
    text: str = entry["payload"]["template"]["components"][0]["parameters"][0]["text"]
    return int(text.removeprefix("req-"))


async def test_kill_9_mid_burst_then_restart_delivers_each_request_once(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    async with (
        # limit 1000/s: the notifier's own 200/s paces the burst
        status_webhooks(nats_server, tmp_path, status_read_enabled=False) as sandbox,
        serving(create_sandbox(sandbox), sandbox.port) as sandbox_url,
        httpx.AsyncClient(timeout=10) as http,
    ):
        armed = await http.post(
            f"{sandbox_url}/sandbox/faults",
            json={"kind": "slow_answer", "latency_ms": ANSWER_LAG_MS, "count": REQUESTS},
        )
        assert armed.status_code == 201
        port = free_port()
        env = notifier_env(
            nats_server.url, database_url, sandbox_url, port, rate_per_second=RATE_PER_SECOND
        )
        first: NotifierProcess | None = None
        second: NotifierProcess | None = None
        bus = Bus(ServiceSettings(environment="test", nats_url=nats_server.url, _env_file=None))
        db = await asyncpg.connect(database_url)
        try:
            await bus.start()
            # queued first: publishing them while the notifier sends (this loop also
            # serves the fake and the gateway) took seconds on a loaded machine, and the
            # burst could end before the poll below began
            for event in [request(i) for i in range(REQUESTS)]:
                await bus.publish(event, subject_of(event))
            first = NotifierProcess(env, port, tmp_path, "notifier-1")

            async def accepted() -> int:
                metrics = (await http.get(f"{sandbox_url}/sandbox/metrics")).json()
                count: int = metrics["graph"].get(PHONE_NUMBER_ID, {}).get("accepted", 0)
                return count

            async with asyncio.timeout(40):  # the notifier starts, then sends
                while await accepted() < KILL_AFTER_ACCEPTED:
                    await asyncio.sleep(0.01)
            first.kill()
            accepted_at_kill = await accepted()
            # Maybe sent: the dead process's provider calls that never got their answer
            in_doubt = await db.fetchval(
                "SELECT count(*) FROM notifier.messages"
                " WHERE maybe_sent_since IS NOT NULL AND provider_message_id IS NULL"
            )
            assert accepted_at_kill < REQUESTS, "the burst ended before the kill"
            assert in_doubt > 0, "no send was waiting for its answer at the kill"

            second = NotifierProcess(env, port, tmp_path, "notifier-2")
            await second.wait_ready()

            async def sent_count() -> int:
                count: int = await db.fetchval(
                    "SELECT count(*) FROM notifier.messages WHERE provider_message_id IS NOT NULL"
                )
                return count

            try:
                async with asyncio.timeout(RECOVERY_TIMEOUT_S):
                    while await sent_count() < REQUESTS:
                        await asyncio.sleep(0.2)
            except TimeoutError:
                raise AssertionError(
                    f"{await sent_count()}/{REQUESTS} sent after the restart;\n{second.log_tail()}"
                ) from None

            outbox = (
                await http.get(f"{sandbox_url}/sandbox/outbox", params={"provider": "graph"})
            ).json()
            calls = Counter(request_index(e) for e in outbox if e["kind"] == "message")
            duplicates = sum(n - 1 for n in calls.values())
            print(
                f"\nkill -9 after {accepted_at_kill} accepted; {in_doubt} calls unanswered;"
                f" {duplicates} duplicate provider call(s) after the restart"
            )
            assert set(calls) == set(range(REQUESTS)), "a request was never delivered"
            assert duplicates == 0, {i: n for i, n in calls.items() if n > 1}

            statuses = Counter(
                row["status"] for row in await db.fetch("SELECT status FROM notifier.messages")
            )
            assert sum(statuses.values()) == REQUESTS
            assert set(statuses) <= {"sent", "delivered"}  # statuses keep coming
            recorded = {
                row["provider_message_id"]
                for row in await db.fetch("SELECT provider_message_id FROM notifier.messages")
            }
            # each request's recorded provider id is one the fake really issued
            assert recorded <= {e["message_id"] for e in outbox}
        finally:
            await bus.stop()
            await db.close()
            if first is not None:
                first.kill()
            if second is not None:
                await second.stop()
