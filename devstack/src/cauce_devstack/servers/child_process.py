"""What every server the devstack runs shares: a child process in its own session,
logging to a file, polled until ready, and stopped without leaving anything behind."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self


def wheel_executable(name: str, wheel: str) -> str:
    """An executable a wheel installed: beside this Python (the venv) or on PATH."""
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} not found: is the {wheel} wheel installed?")
    return found


class ServerProcess:
    """Base of the server classes; subclasses define ``start()`` (and may refine ``stop``)."""

    #: Human name used in errors ("nats-server exited early; see ...").
    name = "server"

    def __init__(self, log_file: Path) -> None:
        self.log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 60.0) -> None:
        raise NotImplementedError

    def signal_group(self, sig: signal.Signals) -> None:
        """Send ``sig`` to the server's process group: SIGSTOP stalls it (a hung disk, a
        long GC pause), SIGCONT resumes it."""
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, sig)

    def crash(self) -> None:
        """``kill -9`` the whole group, as a node failure would: no shutdown at all; the
        data stays as it was and :meth:`start` runs the server on it again."""
        self.signal_group(signal.SIGKILL)
        if self._process is not None:
            self._process.wait()

    def _spawn(self, argv: list[str], **popen: Any) -> None:
        """Start ``argv`` in a new session (its own process group), output to the log."""
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **popen
            )

    def _wait_until(
        self, ready: Callable[[], bool], timeout: float, what: str, poll_s: float = 0.1
    ) -> None:
        """Poll ``ready`` until it is true; fail early if the process died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"{self.name} exited early; see {self.log_file}")
            if ready():
                return
            time.sleep(poll_s)
        raise TimeoutError(f"{what} not ready within {timeout:.0f}s; see {self.log_file}")

    def stop(self, timeout: float = 15.0) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        self._shut_down(process, timeout)

    def _shut_down(self, process: subprocess.Popen[bytes], timeout: float) -> None:
        """SIGTERM, then SIGKILL after ``timeout``."""
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
