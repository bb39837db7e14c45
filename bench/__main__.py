"""``python -m bench [gateway|notifier|campaigns|conversation|crm-sync] [--quick]``: start what
each benchmark needs, run the loads, print the figures (all of them unless one is named;
each benchmark beyond the gateway's lives in its own module).

Everything runs on 127.0.0.1 with free ports in a temporary directory: servers as
process groups, each load in its own spawned process. Every child is stopped on the
way out.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench import (
    campaign_report,
    campaigns,
    conversation,
    crm_sync,
    gateway,
    gateway_steps,
    notifier,
)
from bench.report import render


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
        "--shared-lanes",
        action="store_true",
        help="campaigns: every replica sends both campaigns and replies (default: the "
        "replicas send campaigns and one more the replies)",
    )
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
        "--number-rate",
        type=float,
        default=500.0,
        help="campaigns: the numbers' limit, sends/s (500; Meta's default throughput is 80)",
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
    if args.number_rate <= 0:
        parser.error("--number-rate must be positive")
    if args.concurrency < 1 or args.duration <= 0 or args.rate <= 0 or args.rate_duration <= 0:
        parser.error("concurrency, durations and rate must be positive")
    if args.requests is None:
        # comfortably above what 2 cores serve; the report says if a run used them all
        args.requests = int(min(250_000, 20_000 * args.duration))
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.which in ("all", "gateway"):
        gateway_load = gateway.GatewayLoad(
            concurrency=args.concurrency,
            duration_s=args.duration,
            max_requests=args.requests,
            rate=args.rate,
            rate_duration_s=args.rate_duration,
            batch_posts=5 if args.quick else 20,
        )
        with tempfile.TemporaryDirectory(prefix="cauce-bench-") as tmp:
            report = gateway.run(gateway_load, Path(tmp))
        print(render(report), flush=True)
        print(gateway_steps.render(gateway_steps.measure()), flush=True)
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
            reply_lane=not args.shared_lanes,
            limit=args.number_rate,
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
