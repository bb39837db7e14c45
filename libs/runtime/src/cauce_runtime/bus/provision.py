"""``python -m cauce_runtime.bus.provision``: apply every stream spec once.

Services provision their streams and their own durable consumers at start; this
command provisions every stream of :mod:`cauce_contracts.streams` up front, so a fresh
cluster (the Kubernetes dev overlay's Job, a CI pipeline, an operator after a NATS
restore) stores the first webhook even before the services that consume it are up.
Consumers are left to their services: they are tuned there, and a durable created
later still reads its stream from the start. It reads ``CAUCE_NATS_URL`` and
``CAUCE_NATS_CONNECT_TIMEOUT`` like every service, retries the connection until
``--wait`` seconds have passed (NATS may still be starting next to it), prints what it
created, updated or left alone, and exits non-zero when it could not connect (2) or a
spec could not be applied (1).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from typing import TextIO

import nats
from nats.aio.client import Client

from cauce_contracts.streams import STREAMS, StreamSpec
from cauce_runtime._errors import ProvisioningError
from cauce_runtime._settings import ServiceSettings
from cauce_runtime.bus._connection import sign_in_options
from cauce_runtime.bus._provisioning import (
    ProvisionReport,
    provision_streams,
    with_replicas,
)

EXIT_OK = 0
EXIT_NOT_APPLIED = 1
EXIT_UNREACHABLE = 2


async def connect_with_retry(settings: ServiceSettings, wait_s: float) -> Client:
    """Connect to ``settings.nats_url``, retrying once a second for up to ``wait_s``."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            # nats-py's own connect loop retries a refused server forever unless
            # max_reconnect_attempts is positive; this loop owns the waiting instead.
            return await nats.connect(
                settings.nats_url,
                name=settings.service_name,
                connect_timeout=max(1, round(settings.nats_connect_timeout)),
                allow_reconnect=False,
                max_reconnect_attempts=1,
                reconnect_time_wait=0.2,
                error_cb=_quiet,
                **sign_in_options(settings),
            )
        except (OSError, TimeoutError, nats.errors.Error) as exc:
            if time.monotonic() >= deadline:
                raise
            print(f"NATS not reachable yet ({exc!r}); retrying", file=sys.stderr)
            await asyncio.sleep(1.0)


async def _quiet(error: Exception) -> None:
    """nats-py logs every failed attempt with a traceback; the retry loop reports it."""


async def provision_all(nc: Client, streams: Sequence[StreamSpec] = STREAMS) -> ProvisionReport:
    """Create missing and update changed streams (idempotent)."""
    report = ProvisionReport()
    await provision_streams(nc.jsm(), streams, report)
    return report


def print_report(report: ProvisionReport, out: TextIO) -> None:
    for name in report.created:
        print(f"created   {name}", file=out)
    for name, fields in report.updated.items():
        print(f"updated   {name}: {', '.join(fields)}", file=out)
    for name in report.unchanged:
        print(f"unchanged {name}", file=out)
    print(
        f"{len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged",
        file=out,
    )


async def run(settings: ServiceSettings, wait_s: float, out: TextIO = sys.stdout) -> int:
    """Provision every stream; the process exit code."""
    try:
        nc = await connect_with_retry(settings, wait_s)
    except (OSError, TimeoutError, nats.errors.Error) as exc:
        print(f"cannot connect to NATS ({exc!r}) within {wait_s:g} s", file=sys.stderr)
        return EXIT_UNREACHABLE
    try:
        report = await provision_all(nc, with_replicas(STREAMS, settings.stream_replicas))
    except ProvisioningError as exc:
        print(f"not applied: {exc}", file=sys.stderr)
        return EXIT_NOT_APPLIED
    finally:
        await nc.close()
    print_report(report, out)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cauce_runtime.bus.provision",
        description="Create or update every JetStream stream of cauce (CAUCE_NATS_URL).",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="keep retrying the connection this long (default 60)",
    )
    args = parser.parse_args(argv)
    settings = ServiceSettings(service_name="cauce-provision")
    return asyncio.run(run(settings, args.wait))


if __name__ == "__main__":
    sys.exit(main())
