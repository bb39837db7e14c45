"""Child processes of the benchmark: servers in their own process groups, and isolated
load runs in spawned interpreters. Every child is stopped by whoever started it."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue as queue_module
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

import httpx

T = TypeVar("T")
A = TypeVar("A")

#: The repo root, so ``python -m bench.http_ceiling`` imports from any working directory.
REPO_ROOT = Path(__file__).resolve().parent.parent


class Server:
    """``python -m <module>`` in its own session (process group), output to a log file."""

    def __init__(self, name: str, module: str, env: Mapping[str, str], workdir: Path) -> None:
        self.name = name
        self.log_file = workdir / f"{name}.log"
        child_env = {**os.environ, **env}
        child_env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p
        )
        with self.log_file.open("wb") as log:
            self._process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                [sys.executable, "-m", module],
                cwd=workdir,  # no stray .env from the caller's directory
                env=child_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, url: str, timeout: float = 30.0) -> None:
        """Poll ``url`` until it answers 200; fail early if the process died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=1.0).status_code == 200:
                    return
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready within {timeout:.0f}s:\n{self.log_tail()}")

    @property
    def pid(self) -> int:
        """The child's process id (its CPU time is what some benches measure)."""
        return self._process.pid

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the whole process group, SIGKILL it after ``timeout``."""
        if self._process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGTERM)
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()


def _call_and_put(fn: Callable[[A], T], arg: A, queue: multiprocessing.Queue[T]) -> None:
    queue.put(fn(arg))


def run_isolated(fn: Callable[[A], T], arg: A, timeout: float) -> T:
    """``fn(arg)`` in a freshly spawned interpreter (its own CPU, its own event loop).

    Bounded: the child is terminated if no result arrives within ``timeout`` seconds.
    """
    ctx = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[T] = ctx.Queue()
    process = ctx.Process(target=_call_and_put, args=(fn, arg, queue), daemon=True)
    process.start()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with contextlib.suppress(queue_module.Empty):
                result = queue.get(timeout=0.5)
                process.join(timeout=10)
                return result
            if not process.is_alive():
                raise RuntimeError(f"{fn.__name__} failed in its process ({process.exitcode})")
        raise TimeoutError(f"{fn.__name__} gave no result within {timeout:.0f}s")
    finally:
        if process.is_alive():
            process.terminate()
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()
