"""pytest fixtures that start real servers on free loopback ports.

Registered from the workspace's root ``conftest.py``, so every package's tests can ask
for ``nats_server`` (a fresh nats-server with JetStream per test, like nats.py's own
suite) without copying fixtures around.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cauce_devstack.servers.nats import NatsServer


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A nats-server with JetStream for one test; its data lives in the test's tmp dir."""
    server = NatsServer(store_dir=tmp_path / "nats")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def nats_url(nats_server: NatsServer) -> str:
    return nats_server.url
