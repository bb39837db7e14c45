"""One long-running background task owned by a component (a worker loop, a schedule):
started once, cancelled and awaited on stop, so nothing outlives the service."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from cauce_runtime._errors import TransientError

logger = logging.getLogger(__name__)


class BackgroundTask:
    def __init__(self, name: str) -> None:
        self.name = name
        self._task: asyncio.Task[Any] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run ``work`` in the background (a second start while running is refused)."""
        if self.running:
            work.close()
            raise RuntimeError(f"{self.name} is already running")
        self._task = asyncio.create_task(work, name=self.name)

    async def stop(self) -> None:
        """Cancel the task and wait until it has finished (idempotent)."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None


async def every(interval_s: float, work: Callable[[], Awaitable[object]], what: str) -> None:
    """Run ``work`` now and again ``interval_s`` after each run, for as long as the task
    lives (``BackgroundTask(...).start(every(...))``). A :class:`TransientError` (a
    store or the bus unavailable) is logged and the next round tries again."""
    while True:
        try:
            await work()
        except TransientError as exc:
            logger.warning("%s skipped (%s); the next round retries", what, exc)
        await asyncio.sleep(interval_s)
