"""``python -m bench gateway``: cauce's gateway against a hand-written peer and two ceilings.

Everything runs on 127.0.0.1 with free ports: one nats-server; the gateway
(``python -m cauce_gateway``) traced, untraced (``OTEL_TRACES_SAMPLER=always_off``, the
operator's switch: metrics stay on) and as two processes behind a round-robin client;
the peer (:mod:`bench.peer_receiver`, the receiver a team would write by hand); the HTTP
ceiling (:mod:`bench.http_ceiling`). Each server runs alone while it is loaded, from a
separate load process with the same signed WhatsApp text webhooks. Then a fixed 500
req/s on the traced gateway, and webhooks of 1,000 statuses posted one at a time. At the
end, every stream must hold exactly one event per event answered 200.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import nats

from bench.ceilings import BUS_STREAM, BusLoad, ensure_bus_stream, run_bus_load, stream_messages
from bench.load import (
    PHONE_NUMBER_ID,
    BatchLoad,
    HttpLoad,
    build_bodies,
    run_batch_load,
    run_http_load,
)
from bench.peer_receiver import PEER_STREAM
from bench.processes import Server, run_isolated
from bench.report import CPU_NOTE, Report
from bench.send_timing import cpu_seconds
from bench.stats import RunResult
from cauce_contracts.streams import INBOUND
from cauce_devstack.servers import NatsServer, free_port
from cauce_runtime.bus import stream_config

#: Known to both sides on purpose: the bench signs what its own gateway checks.
APP_SECRET = "bench-secret"  # noqa: S105
TENANT = "bench"
#: Seconds a load process may take beyond its nominal duration (body building, drain).
SLACK_S = 120.0
#: The batch run: statuses per webhook (a campaign's burst) and webhooks posted.
BATCH_STATUSES = 1000


@dataclass(frozen=True)
class GatewayLoad:
    concurrency: int
    duration_s: float
    max_requests: int
    rate: float
    rate_duration_s: float
    batch_posts: int = 20


def _say(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


def _gateway_env(nats_url: str, workdir: Path, *, traced: bool) -> dict[str, str]:
    env = {
        "CAUCE_ENVIRONMENT": "test",
        "CAUCE_NATS_URL": nats_url,
        "CAUCE_META_APP_SECRETS": json.dumps([APP_SECRET]),
        "CAUCE_WHATSAPP_ACCOUNTS": json.dumps(
            [{"account_id": PHONE_NUMBER_ID, "tenant_id": TENANT}]
        ),
        "CAUCE_SPAN_FILE": str(workdir / "spans.jsonl"),
        "CAUCE_LOG_LEVEL": "WARNING",
    }
    if not traced:
        env["OTEL_TRACES_SAMPLER"] = "always_off"
    return env


class _Servers:
    """Starts servers one run at a time and stops them all on the way out."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._running: list[Server] = []

    def start(self, name: str, module: str, env: Mapping[str, str]) -> list[str]:
        """Start ``python -m module`` on a free port; its webhook URL once ready."""
        port = free_port()
        server = Server(name, module, {**env, "CAUCE_PORT": str(port)}, self.workdir)
        self._running.append(server)
        server.wait_ready(f"http://127.0.0.1:{port}/readyz")
        return [f"http://127.0.0.1:{port}/webhooks/whatsapp"]

    def cpu_seconds(self) -> float:
        """CPU the running servers have used so far, all together."""
        return sum(cpu_seconds(server.pid) for server in self._running)

    def stop_all(self) -> None:
        while self._running:
            self._running.pop().stop()


def _closed(name: str, urls: list[str], load: GatewayLoad, servers: _Servers) -> RunResult:
    """A closed-loop run, with the servers' CPU per answered webhook in its notes."""
    spec = HttpLoad(
        name=name,
        urls=tuple(urls),
        app_secret=APP_SECRET,
        mode="closed",
        concurrency=load.concurrency,
        duration_s=load.duration_s,
        max_requests=load.max_requests,
        warmup_requests=4 * load.concurrency,
    )
    before = servers.cpu_seconds()
    result = run_isolated(run_http_load, spec, load.duration_s + SLACK_S)
    used = servers.cpu_seconds() - before
    answered = result.ok + result.warmup_ok
    if answered:
        result = replace(result, notes={**result.notes, CPU_NOTE: f"{1e6 * used / answered:.0f}"})
    return result


def run(load: GatewayLoad, workdir: Path) -> Report:
    nats_server = NatsServer(workdir / "nats")
    servers = _Servers(workdir)
    nats_server.start()
    try:
        asyncio.run(_provision(nats_server.url))
        nats_url = nats_server.url
        runs: dict[str, RunResult] = {}

        def gateway_env(traced: bool) -> dict[str, str]:
            return _gateway_env(nats_url, workdir, traced=traced)

        for shape in ("fastapi", "raw"):
            _say(f"peer ({shape}), closed loop: C={load.concurrency}")
            peer_env = {
                "CAUCE_NATS_URL": nats_url,
                "BENCH_PEER_APP_SECRET": APP_SECRET,
                "BENCH_PEER_SHAPE": shape,
            }
            urls = servers.start(f"peer-{shape}", "bench.peer_receiver", peer_env)
            runs[f"peer-{shape}"] = _closed(f"peer ({shape})", urls, load, servers)
            servers.stop_all()
        _say("gateway, traced")
        traced_urls = servers.start("gateway", "cauce_gateway", gateway_env(True))
        runs["traced"] = _closed("gateway, traced", traced_urls, load, servers)
        _say(f"gateway, fixed rate: {load.rate:g} req/s for {load.rate_duration_s:g} s")
        runs["fixed"] = _fixed(traced_urls, load)
        _say(f"gateway, {load.batch_posts} webhooks of {BATCH_STATUSES} statuses")
        runs["batch"] = run_isolated(
            run_batch_load,
            BatchLoad("batch", traced_urls[0], APP_SECRET, BATCH_STATUSES, load.batch_posts),
            SLACK_S,
        )
        _say("two gateway processes, traced")
        second = servers.start("gateway-2", "cauce_gateway", gateway_env(True))
        runs["two"] = _closed("gateway x2, traced", traced_urls + second, load, servers)
        servers.stop_all()
        _say("gateway, untraced")
        untraced_urls = servers.start("gateway-untraced", "cauce_gateway", gateway_env(False))
        runs["untraced"] = _closed("gateway, untraced", untraced_urls, load, servers)
        servers.stop_all()
        _say("HTTP ceiling")
        ceiling_urls = servers.start("http-ceiling", "bench.http_ceiling", {})
        runs["http"] = _closed("HTTP ceiling", ceiling_urls, load, servers)
        servers.stop_all()
        _say("bus ceiling")
        payload_bytes = len(build_bodies(1, APP_SECRET)[0][0])
        bus_spec = BusLoad(nats_url, load.concurrency, load.duration_s, payload_bytes)
        runs["bus"] = run_isolated(run_bus_load, bus_spec, load.duration_s + SLACK_S)
        return _report(load, runs, nats_url)
    finally:
        servers.stop_all()
        nats_server.stop()


def _fixed(urls: list[str], load: GatewayLoad) -> RunResult:
    spec = HttpLoad(
        name="gateway fixed rate",
        urls=tuple(urls),
        app_secret=APP_SECRET,
        mode="fixed",
        concurrency=load.concurrency,
        duration_s=load.rate_duration_s,
        rate=load.rate,
    )
    return run_isolated(run_http_load, spec, load.rate_duration_s + SLACK_S)


async def _provision(nats_url: str) -> None:
    await ensure_bus_stream(nats_url)
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().add_stream(stream_config(PEER_STREAM))
    finally:
        await nc.close()


def _report(load: GatewayLoad, runs: dict[str, RunResult], nats_url: str) -> Report:
    gateway_events = sum(
        runs[k].ok + runs[k].warmup_ok for k in ("traced", "fixed", "two", "untraced")
    )
    return Report(
        concurrency=load.concurrency,
        duration_s=load.duration_s,
        rate=load.rate,
        rate_duration_s=load.rate_duration_s,
        peer=runs["peer-fastapi"],
        floor=runs["peer-raw"],
        gateway=runs["traced"],
        untraced=runs["untraced"],
        two_processes=runs["two"],
        http_ceiling=runs["http"],
        bus_ceiling=runs["bus"],
        fixed_rate=runs["fixed"],
        batch=runs["batch"],
        batch_statuses=BATCH_STATUSES,
        stream_counts=[
            (
                INBOUND.name,
                asyncio.run(stream_messages(nats_url, INBOUND.name)),
                gateway_events + runs["batch"].ok * BATCH_STATUSES,
                "events of gateway 200s",
            ),
            (
                PEER_STREAM.name,
                asyncio.run(stream_messages(nats_url, PEER_STREAM.name)),
                sum(runs[k].ok + runs[k].warmup_ok for k in ("peer-fastapi", "peer-raw")),
                "peer 200s",
            ),
            (
                BUS_STREAM.name,
                asyncio.run(stream_messages(nats_url, BUS_STREAM.name)),
                runs["bus"].ok,
                "PubAcks",
            ),
        ],
    )
