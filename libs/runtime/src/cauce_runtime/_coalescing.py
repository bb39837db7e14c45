"""Calls that wait for a round trip already on its way go together in the next one:
:class:`Coalescer`.

On this kind of machine a round trip to PostgreSQL costs the caller far more CPU than
the statement's work (the socket write and the wake-up on each side), so a busy service
that sends one small statement per message spends most of its time on them. A
coalescer keeps at most one round trip per key in flight; every call made meanwhile
joins the next one, which serves them all at once (a group commit, as databases do for
their log). A lone call goes at once, as before: the only cost is a task per round.
A round runs in the context of the call that started it: its statement's span is in
that call's trace (the others' traces show the wait, not the statement).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
A = TypeVar("A")
R = TypeVar("R")

#: Serves one round: the key and every call's argument, in the order they came; returns
#: one outcome per argument, in the same order (an exception instance is raised to that
#: caller). Raising fails every call of the round.
Round = Callable[[K, list[A]], Awaitable[Sequence[R | BaseException]]]


class Coalescer(Generic[K, A, R]):
    def __init__(self, serve: Round[K, A, R]) -> None:
        self._serve = serve
        self._queues: dict[K, list[tuple[A, asyncio.Future[R]]]] = {}
        self._rounds: set[asyncio.Task[None]] = set()

    async def submit(self, key: K, argument: A) -> R:
        """``argument``'s outcome, from the next round served for ``key``."""
        waiter: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        queue = self._queues.get(key)
        if queue is not None:
            queue.append((argument, waiter))
        else:
            self._queues[key] = [(argument, waiter)]
            task = asyncio.create_task(self._run(key))
            self._rounds.add(task)
            task.add_done_callback(self._rounds.discard)
        return await waiter

    async def _run(self, key: K) -> None:
        """Serve ``key``'s calls round after round until none is left waiting."""
        try:
            while queued := self._queues[key]:
                self._queues[key] = []
                await self._round(key, [(a, w) for a, w in queued if not w.done()])
        finally:
            self._queues.pop(key, None)

    async def _round(self, key: K, calls: list[tuple[A, asyncio.Future[R]]]) -> None:
        if not calls:
            return
        try:
            outcomes = await self._serve(key, [argument for argument, _ in calls])
        except asyncio.CancelledError:
            for _, waiter in calls:
                waiter.cancel()
            raise
        except Exception as exc:
            outcomes = [exc] * len(calls)
        for (_, waiter), outcome in zip(calls, outcomes, strict=True):
            if waiter.done():
                continue  # its caller gave up meanwhile
            if isinstance(outcome, BaseException):
                waiter.set_exception(outcome)
            else:
                waiter.set_result(outcome)
