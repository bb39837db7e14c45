"""A background task starts once and is cancelled and awaited on stop."""

from __future__ import annotations

import asyncio

import pytest

from cauce_runtime import BackgroundTask


async def test_stop_cancels_and_waits_and_a_second_start_is_refused() -> None:
    finished = asyncio.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            finished.set()

    task = BackgroundTask("test loop")
    task.start(forever())
    await asyncio.sleep(0)
    assert task.running
    with pytest.raises(RuntimeError, match="already running"):
        task.start(forever())
    await task.stop()
    assert finished.is_set() and not task.running
    await task.stop()  # idempotent
