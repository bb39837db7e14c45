"""``python -m cauce_runtime.bus.provision`` provisions every stream and consumer of the
contracts on a real nats-server, is idempotent, and fails loudly when NATS is away."""

from __future__ import annotations

import asyncio
import io
import os
import socket
import subprocess
import sys

import nats

from cauce_contracts.streams import STREAMS
from cauce_runtime import ServiceSettings
from cauce_runtime.bus.provision import EXIT_OK, EXIT_UNREACHABLE, run


async def test_the_command_creates_every_stream_and_durable(nats_url: str) -> None:
    env = {**os.environ, "CAUCE_NATS_URL": nats_url, "CAUCE_ENVIRONMENT": "test"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cauce_runtime.bus.provision",
        "--wait",
        "5",
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    stdout, stderr = await proc.communicate()
    assert proc.returncode == EXIT_OK, stderr.decode()
    assert f"{len(STREAMS)} created, 0 updated, 0 unchanged" in stdout.decode()

    nc = await nats.connect(nats_url)
    try:
        jsm = nc.jsm()
        assert {info.config.name for info in await jsm.streams_info()} == {
            spec.name for spec in STREAMS
        }
        # consumers are tuned and created by the services that consume
        for stream in STREAMS:
            assert await jsm.consumers_info(stream.name) == []
    finally:
        await nc.close()


async def test_a_second_run_changes_nothing(nats_url: str) -> None:
    settings = ServiceSettings(environment="test", nats_url=nats_url, _env_file=None)
    assert await run(settings, wait_s=5, out=io.StringIO()) == EXIT_OK
    out = io.StringIO()
    assert await run(settings, wait_s=5, out=out) == EXIT_OK
    assert f"0 created, 0 updated, {len(STREAMS)} unchanged" in out.getvalue()


async def test_unreachable_nats_exits_2() -> None:
    with socket.socket() as sock:  # a free port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = ServiceSettings(
        environment="test",
        nats_url=f"nats://127.0.0.1:{port}",
        nats_connect_timeout=0.5,
        _env_file=None,
    )
    assert await run(settings, wait_s=0, out=io.StringIO()) == EXIT_UNREACHABLE
