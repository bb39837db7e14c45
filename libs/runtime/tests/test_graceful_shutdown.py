"""SIGTERM: in-flight requests finish, the bus is drained, the process exits 0."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from cauce_devstack.servers.ports import free_port, wait_for_port

SERVICE = Path(__file__).with_name("graceful_service.py")


async def test_sigterm_finishes_in_flight_requests_then_exits(
    nats_url: str, tmp_path: Path
) -> None:
    port = free_port()
    marker = tmp_path / "request-started"
    env = {
        **os.environ,
        "CAUCE_PORT": str(port),
        "CAUCE_NATS_URL": nats_url,
        "CAUCE_SERVICE_NAME": "graceful",
        "CAUCE_SPAN_FILE": str(tmp_path / "spans.jsonl"),
        "CAUCE_SHUTDOWN_TIMEOUT_S": "5",
        "MARKER_FILE": str(marker),
    }
    process = subprocess.Popen(  # noqa: S603 - our own script
        [sys.executable, str(SERVICE)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        wait_for_port(port, timeout=20)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            assert (await client.get("/readyz")).status_code == 200
            in_flight = asyncio.create_task(client.get("/slow"))
            async with asyncio.timeout(10):
                while not marker.exists():
                    await asyncio.sleep(0.01)
            process.send_signal(signal.SIGTERM)
            response = await in_flight
        assert response.status_code == 200
        assert response.json() == {"status": "finished"}
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = process.stdout.read().decode() if process.stdout else ""
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any(r["message"].startswith("bus connected") for r in records)
    assert all(r["service"] == "graceful" for r in records)
