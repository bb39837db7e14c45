"""The campaign bench's stack: nats-server, PostgreSQL (the devstack's embedded one), the
provider sandbox and ``replicas`` notifier processes on free 127.0.0.1 ports, sharing
the database, the durable consumers and so each number's limit; and what the replicas
have used (CPU time, JetStream redeliveries) at a given moment.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.campaign_report import CpuUse
from bench.notifier import CONTACT_SECRET, GRAPH_TOKEN, TENANT
from bench.processes import Server
from bench.send_timing import counter_total, cpu_seconds
from cauce_devstack.minted_tokens import TokenMinter
from cauce_devstack.sandbox.settings import DEV_WABA_ID
from cauce_devstack.servers import NatsServer, free_port
from cauce_devstack.servers.postgres import PostgresServer

#: Signs the bench's access tokens; the bench's notifiers pin its key.
MINTER = TokenMinter()
CAMPAIGN_ACCOUNT = "100000000000901"
ONE_OFF_ACCOUNT = "100000000000902"
#: Both numbers' limit by default, at the notifier and at the Graph fake (which
#: enforces it).
LIMIT = 500.0
REDELIVERIES = "cauce_consumer_redeliveries_total"
SLOTS_MISSED = "cauce_notifier_send_slots_missed_total"


@dataclass(frozen=True)
class Stack:
    nats_url: str
    sandbox_url: str
    database_url: str
    notifiers: list[Server]
    notifier_urls: list[str]


@contextlib.contextmanager
def stack(
    workdir: Path, replicas: int, *, reply_lane: bool = False, limit: float = LIMIT
) -> Iterator[Stack]:
    """nats-server, PostgreSQL, the sandbox and ``replicas`` notifiers; all stopped after.
    ``reply_lane``: the ``replicas`` make campaign sends only, and one more replica
    makes the one-off sends (``CAUCE_SEND_LANES``). Both numbers send ``limit`` a
    second."""
    nats_server = NatsServer(workdir / "nats")
    postgres = PostgresServer(workdir / "pg-data", log_file=workdir / "postgres.log")
    servers: list[Server] = []
    nats_server.start()
    try:
        postgres.start()
        numbers = (CAMPAIGN_ACCOUNT, ONE_OFF_ACCOUNT)
        sandbox_port = free_port()
        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        sandbox_env = {
            "CAUCE_SANDBOX_ACCESS_LOG": "false",
            "CAUCE_SANDBOX_PORT": str(sandbox_port),
            "CAUCE_SANDBOX_GRAPH_TOKENS": json.dumps({n: GRAPH_TOKEN for n in numbers}),
            "CAUCE_SANDBOX_GRAPH_RATE_LIMITS": json.dumps({n: limit for n in numbers}),
            "CAUCE_SANDBOX_STATUS_CALLBACKS_ENABLED": "false",
            "CAUCE_SANDBOX_SERVICE_WINDOW_ENFORCED": "false",
        }
        servers.append(Server("sandbox", "cauce_devstack.sandbox", sandbox_env, workdir))
        accounts = [
            {
                "tenant_id": TENANT,
                "channel": "whatsapp",
                "account_id": number,
                "rate_per_second": limit,
                "business_account_id": DEV_WABA_ID,
                "credentials": {"access_token": GRAPH_TOKEN},
            }
            for number in numbers
        ]
        urls = []
        lanes = ['["campaigns"]'] * replicas + ['["replies"]'] if reply_lane else [None] * replicas
        for replica, lane in enumerate(lanes):
            port = free_port()
            env = {
                "CAUCE_ENVIRONMENT": "test",
                "CAUCE_PORT": str(port),
                "CAUCE_NATS_URL": nats_server.url,
                "CAUCE_POSTGRES_URL": postgres.app_url,
                "CAUCE_GRAPH_BASE_URL": f"{sandbox_url}/graph",
                "CAUCE_ACCOUNTS": json.dumps(accounts),
                "CAUCE_CONTACT_KEY_SECRET": CONTACT_SECRET,
                "CAUCE_IDENTITY_PUBLIC_KEYS": json.dumps(MINTER.jwks),
                "CAUCE_TEMPLATE_SYNC_INTERVAL_S": "0",
                "CAUCE_SPAN_FILE": str(workdir / f"notifier-{replica}-spans.jsonl"),
                "CAUCE_LOG_LEVEL": "WARNING",
                # two cores here: the 100,000-row upload reads its numbers on the other
                "CAUCE_CAMPAIGN_PHONE_WORKER": "true",
            }
            if lane is not None:
                env["CAUCE_SEND_LANES"] = lane
            servers.append(Server(f"notifier-{replica}", "cauce_notifier", env, workdir))
            urls.append(f"http://127.0.0.1:{port}")
            servers[-1].wait_ready(f"{urls[-1]}/readyz")
        servers[0].wait_ready(f"{sandbox_url}/sandbox/metrics")
        yield Stack(nats_server.url, sandbox_url, postgres.app_url, servers[1:], urls)
    finally:
        for server in reversed(servers):
            server.stop()
        postgres.stop()
        nats_server.stop()


@dataclass(frozen=True)
class Usage:
    """What the replicas had used at one moment: CPU seconds each, and the deliveries
    JetStream made again to one consumer of theirs (summed)."""

    cpu_s: tuple[float, ...]
    redeliveries: float
    slots_missed: float = 0.0

    @classmethod
    async def now(cls, stack: Stack, consumer: str) -> Usage:
        cpu = tuple(cpu_seconds(server.pid) for server in stack.notifiers)
        async with httpx.AsyncClient(timeout=10) as http:
            pages = [(await http.get(f"{url}/metrics")).text for url in stack.notifier_urls]
        total = sum(counter_total(p, REDELIVERIES, consumer=consumer) for p in pages)
        return cls(cpu, total, sum(counter_total(p, SLOTS_MISSED) for p in pages))

    def since(self, before: Usage, sends: int) -> CpuUse:
        cpu_ms = tuple((b - a) * 1000 for a, b in zip(before.cpu_s, self.cpu_s, strict=True))
        return CpuUse(
            cpu_ms,
            sends,
            int(self.redeliveries - before.redeliveries),
            int(self.slots_missed - before.slots_missed),
        )
