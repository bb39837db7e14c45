"""kill -9 of the notifier in the middle of a campaign, then a restart on the same
PostgreSQL and NATS: every recipient gets its message, with the values planned for it,
and the only recipients that can get two are those whose send was at the provider
when the process died (delivery.py's documented window; Meta has no idempotency key).

Two replicas run; the one holding the campaign's dispatch lease is killed mid-run, so
the other takes the campaign over once the lease lapses, and the killed one is
restarted (its claims lapse after the tests' short CAUCE_DELIVERY_CLAIM_S).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from cauce_contracts.identity import Permission
from cauce_devstack.sandbox.app import create_app as create_sandbox
from cauce_devstack.servers import NatsServer, free_port
from cauce_devstack.testing import serving

from .conftest import MINTER, PHONE_NUMBER_ID, TENANT, sandbox_settings
from .notifier_process import NotifierProcess, campaign_notifier_env

pytestmark = pytest.mark.slow

RECIPIENTS = 300
RATE_PER_SECOND = 100
KILL_AFTER_ACCEPTED = 60
TOKEN = MINTER.token(
    TENANT, Permission.CAMPAIGNS_MANAGE, Permission.CAMPAIGNS_READ, Permission.TEMPLATES_READ
)
RECOVERY_TIMEOUT_S = 60.0


def env_of(nats_url: str, database_url: str, sandbox_url: str, port: int) -> dict[str, str]:
    return campaign_notifier_env(
        nats_url, database_url, sandbox_url, port, rate_per_second=RATE_PER_SECOND
    )


def recipients_csv() -> str:
    rows = [f"+5730013{i:05d},Cliente {i},${i}" for i in range(RECIPIENTS)]
    return "Recipient-Phone-Number,variable_1,variable_2\n" + "\n".join(rows) + "\n"


def values_sent(entry: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    template = entry["payload"]["template"]
    params = template["components"][0]["parameters"]
    return entry["payload"]["to"], tuple(p["text"] for p in params)


async def test_kill_9_mid_campaign_then_restart_sends_everyone_once_as_planned(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    sandbox = sandbox_settings()
    async with (
        serving(create_sandbox(sandbox), sandbox.port) as sandbox_url,
        httpx.AsyncClient(timeout=10, headers={"Authorization": f"Bearer {TOKEN}"}) as http,
    ):
        ports = [free_port(), free_port()]
        envs = [env_of(nats_server.url, database_url, sandbox_url, port) for port in ports]
        replicas = [NotifierProcess(envs[i], ports[i], tmp_path, f"notifier-{i}") for i in (0, 1)]
        restarted: NotifierProcess | None = None
        db = await asyncpg.connect(database_url)
        try:
            for replica in replicas:
                await replica.wait_ready()
            api = replicas[0].url + "/api/v1"
            assert (await http.post(f"{api}/templates/sync")).status_code == 200
            body = {"name": "Crash", "template_name": "pago_confirmado", "template_language": "es"}
            campaign_id = (await http.post(f"{api}/campaigns", json=body)).json()["id"]
            files = {"file": ("r.csv", recipients_csv().encode(), "text/csv")}
            loaded = await http.post(
                f"{api}/campaigns/{campaign_id}/upload-recipients", files=files
            )
            assert loaded.json()["accepted"] == RECIPIENTS
            assert (await http.post(f"{api}/campaigns/{campaign_id}/start")).status_code == 200

            async def accepted() -> int:
                metrics = (await http.get(f"{sandbox_url}/sandbox/metrics")).json()
                count: int = metrics["graph"].get(PHONE_NUMBER_ID, {}).get("accepted", 0)
                return count

            async with asyncio.timeout(20):
                while await accepted() < KILL_AFTER_ACCEPTED:
                    await asyncio.sleep(0.01)
            holder = await db.fetchval(
                "SELECT dispatcher FROM notifier.campaigns WHERE id = $1::uuid", campaign_id
            )
            pids = [replica.pid for replica in replicas]
            victim = next(i for i, pid in enumerate(pids) if holder.endswith(f":{pid}"))
            replicas[victim].kill()
            loop = asyncio.get_running_loop()
            killed_at = loop.time()
            accepted_at_kill = await accepted()
            in_flight = {
                row["recipient"]
                for row in await db.fetch(
                    "SELECT recipient FROM notifier.messages"
                    " WHERE claimed_until IS NOT NULL AND provider_message_id IS NULL"
                )
            }
            assert accepted_at_kill < RECIPIENTS, "the campaign ended before the kill"
            restarted = NotifierProcess(envs[victim], ports[victim], tmp_path, "notifier-again")
            await restarted.wait_ready()

            async def completed() -> bool:
                status = await db.fetchval(
                    "SELECT status FROM notifier.campaigns WHERE id = $1::uuid", campaign_id
                )
                return bool(status == "COMPLETED")

            try:
                async with asyncio.timeout(RECOVERY_TIMEOUT_S):
                    while not await completed():
                        await asyncio.sleep(0.2)
            except TimeoutError:
                survivor = replicas[1 - victim]
                raise AssertionError(
                    f"not completed after the restart;\n{survivor.log_tail()}\n"
                    f"{restarted.log_tail()}"
                ) from None

            outbox = (
                await http.get(f"{sandbox_url}/sandbox/outbox", params={"provider": "graph"})
            ).json()
            sends = [values_sent(e) for e in outbox if e["kind"] == "message"]
            calls = Counter(to for to, _ in sends)
            planned = {
                row["phone"]: tuple(json.loads(row["variables"]))
                for row in await db.fetch(
                    "SELECT phone, variables FROM notifier.campaign_recipients"
                    " WHERE campaign_id = $1::uuid",
                    campaign_id,
                )
            }
            duplicates = sum(n - 1 for n in calls.values())
            print(
                f"\nkill -9 after {accepted_at_kill} accepted; {len(in_flight)} in flight;"
                f" {duplicates} duplicate provider call(s) after the restart;"
                f" completed {loop.time() - killed_at:.1f} s after the kill"
            )
            assert set(calls) == set(planned), "a recipient never got its message"
            assert {to for to, n in calls.items() if n > 1} <= in_flight
            # whatever the release, each message carries the values planned for it
            assert all(values == planned[to] for to, values in sends)
        finally:
            await db.close()
            for replica in replicas:
                replica.kill()
            if restarted is not None:
                await restarted.stop()
            for replica in replicas:
                await replica.stop()
