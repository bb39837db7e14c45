import json
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest

from cauce_devstack.launcher import READY_LINE, Stack, StackStartError
from cauce_devstack.stack import ServiceSpec, StackConfig, resolve_ports
from cauce_devstack.testing import free_ports, launched

# A stand-in service: serves /healthz, /readyz (503 when FAKE_NOT_READY is set) and
# /env (the CAUCE_* variables it was started with) on CAUCE_PORT.
FAKE_SERVICE = textwrap.dedent(
    """
    import json, os
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/readyz" and os.environ.get("FAKE_NOT_READY"):
                status, body = 503, b"{}"
            elif self.path == "/env":
                env = {k: v for k, v in os.environ.items() if k.startswith("CAUCE_")}
                status, body = 200, json.dumps(env).encode()
            else:
                status, body = 200, b'{"status": "ok"}'
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    print("fake service up", flush=True)
    HTTPServer(("127.0.0.1", int(os.environ["CAUCE_PORT"])), Handler).serve_forever()
    """
)


def fake_service(name: str, port: int, **env: str) -> ServiceSpec:
    return ServiceSpec(
        name, "unused", port, extra_env=env, argv=[sys.executable, "-c", FAKE_SERVICE]
    )


def test_ports_resolve_from_defaults_base_and_overrides() -> None:
    assert resolve_ports()["gateway"] == 8080
    assert resolve_ports()["nats"] == 4222
    based = resolve_ports(base_port=30000, overrides={"sandbox": 31999})
    assert based["gateway"] == 30000 and based["notifier"] == 30004
    assert based["sandbox"] == 31999
    with pytest.raises(ValueError, match="unknown port name"):
        resolve_ports(overrides={"redis": 1})


def test_taken_port_gives_one_clear_line_and_starts_nothing(tmp_path: Path) -> None:
    ports = free_ports()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", ports["sandbox"]))
        squatter.listen()
        args = [f"--port={name}={port}" for name, port in ports.items()]
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "cauce_devstack", "run", "--home", str(tmp_path), *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"port {ports['sandbox']} (provider sandbox) is already in use" in lines[0]
    assert "Traceback" not in done.stdout + done.stderr
    assert not (tmp_path / "nats").exists()


def test_cli_runs_infra_and_sandbox_and_ctrl_c_leaves_no_orphans(tmp_path: Path) -> None:
    ports = free_ports()
    home = tmp_path / ".cauce"
    with launched(home, ports, "--only", "nats,postgres,mongo,sandbox") as stack:
        output = stack.wait_ready(timeout=90)
        assert READY_LINE in output
        for name in ("nats", "postgres", "mongo", "sandbox"):
            assert f"127.0.0.1:{ports[name]}" in output
        names = " ".join(" ".join(c.cmdline()) for c in stack.children)
        assert "nats-server" in names and "postgres" in names and "secantusd" in names
        assert "cauce_devstack.sandbox" in names

        outbox = httpx.get(f"http://127.0.0.1:{ports['sandbox']}/sandbox/outbox", timeout=5)
        assert outbox.status_code == 200 and outbox.json() == []
        state = json.loads((home / "stack.json").read_text())
        assert state["endpoints"]["postgres"].endswith(f":{ports['postgres']}/cauce")

        assert stack.interrupt(timeout=60) == 0
        assert stack.survivors(timeout=10) == []
        assert not (home / "stack.json").exists()
        assert (home / "logs" / "sandbox.log").exists()


def test_services_get_their_env_and_a_second_run_reuses_the_data(tmp_path: Path) -> None:
    ports = free_ports()
    config = StackConfig.create(
        tmp_path / ".cauce",
        port_overrides=ports,
        only=["nats", "postgres", "svc"],
        services=[fake_service("svc", ports["gateway"], EXTRA="1")],
        health_timeout=30,
    )
    stack = Stack(config, echo=lambda line: None)
    stack.start()
    try:
        env = httpx.get(f"http://127.0.0.1:{ports['gateway']}/env", timeout=5).json()
        assert env["CAUCE_PORT"] == str(ports["gateway"])
        assert env["CAUCE_ENVIRONMENT"] == "dev"
        assert env["CAUCE_NATS_URL"] == f"nats://127.0.0.1:{ports['nats']}"
        assert (
            env["CAUCE_POSTGRES_URL"]
            == f"postgresql://postgres@127.0.0.1:{ports['postgres']}/cauce"
        )
        assert env["CAUCE_SPAN_FILE"] == str(config.home / "traces" / "spans.jsonl")
        assert "CAUCE_MONGODB_URL" not in env and "CAUCE_GRAPH_BASE_URL" not in env
        assert "fake service up" in (config.home / "logs" / "svc.log").read_text()
        write_row(stack.postgres_url)
    finally:
        stack.stop()

    second = Stack(config, echo=lambda line: None)
    second.start()
    try:
        assert read_row(second.postgres_url) == "kept"
    finally:
        second.stop()


def write_row(url: str | None) -> None:
    import asyncio

    async def go() -> None:
        conn = await asyncpg.connect(url)
        await conn.execute("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('kept')")
        await conn.close()

    asyncio.run(go())


def read_row(url: str | None) -> str:
    import asyncio

    async def go() -> str:
        conn = await asyncpg.connect(url)
        value = await conn.fetchval("SELECT v FROM kept")
        await conn.close()
        return str(value)

    return asyncio.run(go())


def test_service_that_never_gets_ready_names_its_log_and_everything_stops(tmp_path: Path) -> None:
    ports = free_ports()
    config = StackConfig.create(
        tmp_path / ".cauce",
        port_overrides=ports,
        only=["svc"],
        services=[fake_service("svc", ports["gateway"], FAKE_NOT_READY="1")],
        health_timeout=2,
    )
    stack = Stack(config, echo=lambda line: None)
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    with pytest.raises(
        StackStartError, match=r"svc did not answer 200 on /readyz .* see .*svc\.log"
    ):
        stack.start()
    after = {p.pid for p in psutil.Process().children(recursive=True) if p.status() != "zombie"}
    assert after <= before
