"""``python -m bench [gateway|notifier|campaigns|conversation|crm-sync] [--quick]``: start what
each benchmark needs, run the loads, print the figures (all of them unless one is named;
each benchmark beyond the gateway's lives in its own module).

Everything runs on 127.0.0.1 with free ports in a temporary directory: nats-server,
the gateway (``python -m cauce_gateway``) and the HTTP-ceiling app as process groups,
each load in its own spawned process. Every child is stopped on the way out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench import campaign_report, campaigns, conversation, crm_sync, notifier
from bench.ceilings import BUS_STREAM, BusLoad, ensure_bus_stream, run_bus_load, stream_messages
from bench.load import PHONE_NUMBER_ID, HttpLoad, build_bodies, run_http_load
from bench.processes import Server, run_isolated
from bench.report import Report, render
from cauce_contracts.streams import INBOUND
from cauce_devstack.servers import NatsServer, free_port

#: Known to both sides on purpose: the bench signs what its own gateway checks.
APP_SECRET = "bench-secret"  # noqa: S105
TENANT = "bench"
#: Seconds a load process may take beyond its nominal duration (body building, drain).
SLACK_S = 120.0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "which",
        nargs="?",
        choices=("all", "gateway", "notifier", "campaigns", "conversation", "crm-sync"),
        default="all",
    )
    parser.add_argument(
        "--conversations", type=int, default=20, help="conversation: concurrent customers (20)"
    )
    parser.add_argument(
        "--conversation-duration", type=float, default=60.0, help="conversation: seconds (60)"
    )
    parser.add_argument("--replicas", type=int, default=2, help="notifier, campaigns: replicas (2)")
    parser.add_argument(
        "--messages", type=int, default=5000, help="notifier: messages per backlog run (5000)"
    )
    parser.add_argument(
        "--campaign-recipients",
        type=int,
        default=20_000,
        help="campaigns: recipients of the campaign and of the one-off backlog (20000)",
    )
    parser.add_argument(
        "--csv-rows", type=int, default=100_000, help="campaigns: rows of the CSV upload (100000)"
    )
    parser.add_argument(
        "--crm-events", type=int, default=10_000, help="crm-sync: events in the burst (10000)"
    )
    parser.add_argument("--concurrency", type=int, default=64, help="in-flight requests (64)")
    parser.add_argument("--duration", type=float, default=10.0, help="closed-loop seconds (10)")
    parser.add_argument("--requests", type=int, default=None, help="closed-loop request cap")
    parser.add_argument("--rate", type=float, default=500.0, help="fixed rate, req/s (500)")
    parser.add_argument("--rate-duration", type=float, default=30.0, help="fixed-rate s (30)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: C=16, 3 s, 200/s 5 s; 400 messages; a 2000-recipient campaign",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.concurrency, args.duration, args.rate, args.rate_duration = 16, 3.0, 200.0, 5.0
        args.messages = 400
        args.conversation_duration = 10.0
        args.crm_events = 1000
        args.campaign_recipients, args.csv_rows = 2000, 10_000
    if args.messages < 1 or args.campaign_recipients < 1 or args.csv_rows < 1:
        parser.error("--messages, --campaign-recipients and --csv-rows must be positive")
    if args.concurrency < 1 or args.duration <= 0 or args.rate <= 0 or args.rate_duration <= 0:
        parser.error("concurrency, durations and rate must be positive")
    if args.requests is None:
        # comfortably above what 2 cores serve; the report says if a run used them all
        args.requests = int(min(250_000, 20_000 * args.duration))
    return args


def closed_load(name: str, url: str, args: argparse.Namespace) -> HttpLoad:
    return HttpLoad(
        name=name,
        url=url,
        app_secret=APP_SECRET,
        mode="closed",
        concurrency=args.concurrency,
        duration_s=args.duration,
        max_requests=args.requests,
        warmup_requests=4 * args.concurrency,
    )


def run(args: argparse.Namespace, workdir: Path) -> Report:
    nats_server = NatsServer(workdir / "nats")
    gateway: Server | None = None
    ceiling: Server | None = None
    nats_server.start()
    try:
        gateway_port, ceiling_port = free_port(), free_port()
        gateway = Server(
            "gateway",
            "cauce_gateway",
            {
                "CAUCE_ENVIRONMENT": "test",
                "CAUCE_PORT": str(gateway_port),
                "CAUCE_NATS_URL": nats_server.url,
                "CAUCE_META_APP_SECRETS": json.dumps([APP_SECRET]),
                "CAUCE_WHATSAPP_ACCOUNTS": json.dumps(
                    [{"account_id": PHONE_NUMBER_ID, "tenant_id": TENANT}]
                ),
                "CAUCE_SPAN_FILE": str(workdir / "spans.jsonl"),
                "CAUCE_LOG_LEVEL": "WARNING",
            },
            workdir,
        )
        ceiling = Server(
            "http-ceiling",
            "bench.http_ceiling",
            {"CAUCE_ENVIRONMENT": "test", "CAUCE_PORT": str(ceiling_port)},
            workdir,
        )
        gateway.wait_ready(f"http://127.0.0.1:{gateway_port}/readyz")
        ceiling.wait_ready(f"http://127.0.0.1:{ceiling_port}/readyz")
        asyncio.run(ensure_bus_stream(nats_server.url))

        gateway_url = f"http://127.0.0.1:{gateway_port}/webhooks/whatsapp"
        ceiling_url = f"http://127.0.0.1:{ceiling_port}/webhooks/whatsapp"
        closed_timeout = args.duration + SLACK_S
        _say(f"gateway, closed loop: C={args.concurrency} for {args.duration:g} s")
        gw = run_isolated(run_http_load, closed_load("gateway", gateway_url, args), closed_timeout)
        _say("HTTP ceiling, closed loop")
        http = run_isolated(
            run_http_load, closed_load("HTTP ceiling", ceiling_url, args), closed_timeout
        )
        _say("bus ceiling")
        payload_bytes = len(build_bodies(1, APP_SECRET)[0][0])
        bus_spec = BusLoad(nats_server.url, args.concurrency, args.duration, payload_bytes)
        bus = run_isolated(run_bus_load, bus_spec, closed_timeout)
        _say(f"gateway, fixed rate: {args.rate:g} req/s for {args.rate_duration:g} s")
        fixed_spec = HttpLoad(
            name="gateway fixed rate",
            url=gateway_url,
            app_secret=APP_SECRET,
            mode="fixed",
            concurrency=args.concurrency,
            duration_s=args.rate_duration,
            rate=args.rate,
        )
        fixed = run_isolated(run_http_load, fixed_spec, args.rate_duration + SLACK_S)

        inbound = asyncio.run(stream_messages(nats_server.url, INBOUND.name))
        bus_count = asyncio.run(stream_messages(nats_server.url, BUS_STREAM.name))
        return Report(
            concurrency=args.concurrency,
            duration_s=args.duration,
            rate=args.rate,
            rate_duration_s=args.rate_duration,
            gateway=gw,
            http_ceiling=http,
            bus_ceiling=bus,
            fixed_rate=fixed,
            inbound_expected=gw.ok + gw.warmup_ok + fixed.ok,
            inbound_actual=inbound,
            bus_expected=bus.ok,
            bus_actual=bus_count,
        )
    finally:
        for server in (ceiling, gateway):
            if server is not None:
                server.stop()
        nats_server.stop()


def _say(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.which in ("all", "gateway"):
        with tempfile.TemporaryDirectory(prefix="cauce-bench-") as tmp:
            report = run(args, Path(tmp))
        print(render(report), flush=True)
    if args.which in ("all", "notifier"):
        with tempfile.TemporaryDirectory(prefix="cauce-bench-notifier-") as tmp:
            notifier_report = notifier.run(args.messages, Path(tmp), replicas=args.replicas)
        print(notifier.render(notifier_report))
    if args.which in ("all", "campaigns"):
        load = campaigns.CampaignLoad(
            recipients=args.campaign_recipients,
            csv_rows=args.csv_rows,
            replicas=args.replicas,
            baseline_s=5.0 if args.quick else 20.0,
        )
        with tempfile.TemporaryDirectory(prefix="cauce-bench-campaigns-") as tmp:
            campaigns_report = campaigns.run(load, Path(tmp))
        print(campaign_report.render(campaigns_report), flush=True)
    if args.which in ("all", "conversation"):
        with tempfile.TemporaryDirectory(prefix="cauce-bench-conversation-") as tmp:
            conversation_reports = conversation.run(
                Path(tmp) / ".cauce", args.conversations, args.conversation_duration
            )
        print(conversation.render(conversation_reports), flush=True)
    if args.which in ("all", "crm-sync"):
        with tempfile.TemporaryDirectory(prefix="cauce-bench-crm-") as tmp:
            crm_report = crm_sync.run(Path(tmp) / ".cauce", args.crm_events)
        print(crm_sync.render(crm_report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
