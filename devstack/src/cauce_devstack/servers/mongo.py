"""MongoDB for the devstack and tests: a real server when given, else SecantusDB.

Order of preference (DESIGN "Real parts"):

1. ``MONGODB_URL`` in the environment: a real MongoDB someone runs for us.
2. testcontainers when Docker is available: not wired yet (no Docker on the machines
   this was built on, and we do not add the dependency for nothing). The hook is
   :func:`start_mongo_container`, which returns None until someone implements it.
3. ``SecantusServer``: the SecantusDB wire-protocol server (``secantusd-py`` from the
   ``secantusdb`` wheel) as a child process, storing under a directory we choose.
"""

from __future__ import annotations

import os
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from cauce_devstack.servers.child_process import ServerProcess, wheel_executable
from cauce_devstack.servers.ports import LOOPBACK, ensure_port_free, free_port

MONGODB_URL_ENV = "MONGODB_URL"


def mongo_url_from_env() -> str | None:
    """The real MongoDB the developer points us at (``MONGODB_URL``), if any."""
    url = os.environ.get(MONGODB_URL_ENV, "").strip()
    return url or None


def start_mongo_container() -> str | None:
    """Hook for a testcontainers MongoDB when Docker is available.

    Not implemented: returns None so callers fall back to SecantusDB.
    """
    return None


def ping(url: str, timeout: float = 2.0) -> bool:
    """True when a MongoDB server at ``url`` answers ``ping``."""
    client: MongoClient[dict[str, object]] = MongoClient(
        url, serverSelectionTimeoutMS=int(timeout * 1000), connectTimeoutMS=int(timeout * 1000)
    )
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def secantusd_binary() -> str:
    """The ``secantusd-py`` launcher installed by the ``secantusdb`` wheel."""
    return wheel_executable("secantusd-py", "secantusdb")


class SecantusServer(ServerProcess):
    """A SecantusDB server on loopback, storing under ``storage_dir``.

    It advertises itself as a single-node replica set, so clients must connect with
    ``directConnection=true`` (the URL includes it). Data survives ``stop()``/``start()``.
    """

    name = "secantusd-py"

    def __init__(
        self, storage_dir: Path, port: int | None = None, log_file: Path | None = None
    ) -> None:
        self.storage_dir = Path(storage_dir)
        super().__init__(log_file or self.storage_dir.parent / f"{self.storage_dir.name}.log")
        self.port = port or free_port()

    @property
    def url(self) -> str:
        return f"mongodb://{LOOPBACK}:{self.port}/?directConnection=true"

    def command(self) -> list[str]:
        return [
            secantusd_binary(),
            "--host",
            LOOPBACK,
            "--port",
            str(self.port),
            "--storage-path",
            str(self.storage_dir),
            "--log-level",
            "WARNING",
        ]

    def start(self, timeout: float = 60.0) -> None:
        if self.running:
            return
        ensure_port_free(self.port, "MongoDB (SecantusDB)")
        self.storage_dir.mkdir(parents=True, exist_ok=True)
        # cwd: it auto-discovers ./secantusd.toml, so keep the directory ours
        self._spawn(self.command(), cwd=self.storage_dir)
        try:
            self._wait_until(lambda: ping(self.url, timeout=1.0), timeout, "SecantusDB")
        except BaseException:
            self.stop()
            raise
