"""Helpers for tests that drive the launcher as a real subprocess."""

from __future__ import annotations

import os
import select
import subprocess
import time

from cauce_devstack.servers.ports import free_port
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
