"""Loopback port helpers: pick a free port, or fail clearly when one is taken."""

from __future__ import annotations

import random
import socket
import time

LOOPBACK = "127.0.0.1"


class PortInUseError(RuntimeError):
    """A port the stack needs is already bound by another process."""

    def __init__(self, port: int, what: str) -> None:
        super().__init__(
            f"port {port} ({what}) is already in use on {LOOPBACK}; "
            f"stop whatever holds it (`lsof -i :{port}`) or choose another port"
        )
        self.port = port
        self.what = what


def free_port() -> int:
    """Return a TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


#: Below Linux's default ephemeral range (32768-60999): the kernel never hands these to
#: an outgoing connection or to another ``bind(0)``.
STABLE_PORTS = range(20000, 32768)


def stable_free_port(taken: set[int] | None = None) -> int:
    """A free loopback port outside the ephemeral range, for a server that binds it
    seconds later (a stack started as a subprocess): an ephemeral port picked by
    :func:`free_port` can be taken meanwhile by any outgoing connection on the machine."""
    taken = taken or set()
    for _ in range(200):
        port = random.choice(STABLE_PORTS)  # noqa: S311 - not a secret
        if port not in taken and port_is_free(port):
            return port
    return free_port()


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
        return True


def ensure_port_free(port: int, what: str) -> None:
    if not port_is_free(port):
        raise PortInUseError(port, what)


def port_accepts(port: int, host: str = LOOPBACK) -> bool:
    """Whether something accepts TCP connections on ``port`` right now."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for_port(port: int, timeout: float = 15.0, host: str = LOOPBACK) -> None:
    """Block until something accepts TCP connections on ``port`` or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_accepts(port, host):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing answered on {host}:{port} within {timeout:.0f}s")
