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
import shutil
import subprocess
import sys
import time
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

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
    beside_python = Path(sys.executable).parent / "secantusd-py"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("secantusd-py")
    if found is None:
        raise FileNotFoundError("secantusd-py not found: is the secantusdb wheel installed?")
    return found


class SecantusServer:
    """A SecantusDB server on loopback, storing under ``storage_dir``.

    It advertises itself as a single-node replica set, so clients must connect with
    ``directConnection=true`` (the URL includes it). Data survives ``stop()``/``start()``.
    """

    def __init__(
        self, storage_dir: Path, port: int | None = None, log_file: Path | None = None
    ) -> None:
        self.storage_dir = Path(storage_dir)
        self.port = port or free_port()
        self.log_file = log_file or self.storage_dir.parent / f"{self.storage_dir.name}.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mongodb://{LOOPBACK}:{self.port}/?directConnection=true"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

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
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_file.open("ab")
        self._process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            self.command(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=self.storage_dir,  # it auto-discovers ./secantusd.toml: keep that ours
        )
        log.close()
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"secantusd-py exited early; see {self.log_file}")
            if ping(self.url, timeout=1.0):
                return
            time.sleep(0.1)
        raise TimeoutError(f"SecantusDB not ready within {timeout:.0f}s; see {self.log_file}")

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (it closes WiredTiger cleanly), SIGKILL after ``timeout``."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> SecantusServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
