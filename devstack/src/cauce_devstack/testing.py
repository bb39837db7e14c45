"""Helpers for tests: real servers in the test's loop, the launcher as a subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import subprocess
import time
from collections.abc import AsyncIterator

import uvicorn
from starlette.types import ASGIApp

from cauce_devstack.servers.ports import LOOPBACK, free_port
from cauce_devstack.stack import BASE_PORT_OFFSETS


def free_ports() -> dict[str, int]:
    """A free loopback port for every component the stack can bind."""
    return {name: free_port() for name in BASE_PORT_OFFSETS}


def read_until(process: subprocess.Popen[bytes], marker: str, timeout: float) -> str:
    """Read the process's stdout until ``marker`` appears (raw pipe: no Python-side
    buffering that select() cannot see); fail with the output so far."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    seen = b""
    deadline = time.monotonic() + timeout
    while marker.encode() not in seen:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or process.poll() is not None:
            raise AssertionError(f"no {marker!r} in time; output so far:\n{seen.decode()}")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            seen += os.read(fd, 65536)
    return seen.decode()


@contextlib.asynccontextmanager
async def serving(app: ASGIApp, port: int | None = None) -> AsyncIterator[str]:
    """Serve ``app`` over real HTTP with uvicorn, inside the running event loop, on a
    free loopback port (lifespan included); yield its base URL."""
    port = port or free_port()
    config = uvicorn.Config(app, host=LOOPBACK, port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # it failed to start: raise why
            raise RuntimeError("uvicorn stopped before it started")
        await asyncio.sleep(0.01)
    try:
        yield f"http://{LOOPBACK}:{port}"
    finally:
        server.should_exit = True
        await task
