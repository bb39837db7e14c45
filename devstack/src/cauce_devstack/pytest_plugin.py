"""pytest fixtures that start real servers on free loopback ports.

Registered from the workspace's root ``conftest.py``, so every package's tests can ask
for ``nats_server`` (a fresh nats-server with JetStream per test, like nats.py's own
suite), ``postgres_url``, ``database_url`` (a fresh database per test) and
``mongo_url`` without copying fixtures around.

PostgreSQL and MongoDB are session-scoped (one server for the whole run, started only
when the first test asks for it): tests isolate themselves with their own database,
schema or collection names instead of paying a server start each.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from cauce_devstack.servers.mongo import SecantusServer, mongo_url_from_env
from cauce_devstack.servers.nats import NatsServer
from cauce_devstack.servers.postgres import PostgresServer
from cauce_devstack.testing import fresh_database

#: Fresh ports to try when nats-server could not start: a free port can be taken by
#: another process between choosing it and binding it.
NATS_START_ATTEMPTS = 3


def start_nats(store_dir: Path) -> NatsServer:
    for attempt in range(1, NATS_START_ATTEMPTS + 1):
        server = NatsServer(store_dir=store_dir)
        try:
            server.start()
            return server
        except (RuntimeError, TimeoutError):
            server.stop()
            if attempt == NATS_START_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A nats-server with JetStream for one test; its data lives in the test's tmp dir."""
    server = start_nats(tmp_path / "nats")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def nats_url(nats_server: NatsServer) -> str:
    return nats_server.url


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """One PostgreSQL for the session (trust auth on loopback), with a ``cauce`` database."""
    base = tmp_path_factory.mktemp("postgres")
    server = PostgresServer(data_dir=base / "data", log_file=base / "postgres.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """URL of the session server's ``cauce`` database."""
    return postgres_server.app_url


@pytest.fixture
async def database_url(postgres_server: PostgresServer) -> AsyncIterator[str]:
    """A fresh database on the session PostgreSQL for this test only."""
    async with fresh_database(postgres_server) as url:
        yield url


@pytest.fixture(scope="session")
def mongo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``MONGODB_URL`` when set (a real MongoDB), else a session SecantusDB server."""
    external = mongo_url_from_env()
    if external is not None:
        yield external
        return
    base = tmp_path_factory.mktemp("mongo")
    server = SecantusServer(storage_dir=base / "data", log_file=base / "secantus.log")
    server.start()
    try:
        yield server.url
    finally:
        server.stop()
