"""The fetch loop of one durable pull consumer, on nats-py.

FastStream's pull subscriber (0.7.8) is not used for consuming: with a batch larger than
one, nats-py's ``fetch`` ends an idle wait with ``asyncio.TimeoutError``, which
FastStream's loop does not catch (it suppresses ``nats.errors.TimeoutError`` only); its
supervisor then restarts the loop, and the orphaned pull request stalls later fetches.
Its loop also waits for a whole batch before fetching the next one. This loop keeps up
to ``concurrency`` messages in flight and fetches more as soon as there is room, never
waiting for a batch to fill (see :meth:`PullLoop._fetch`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from cauce_runtime.bus._spec import ConsumerSpec
from cauce_runtime.telemetry import metrics

logger = logging.getLogger(__name__)

MessageHandler = Callable[[Msg], Coroutine[Any, Any, None]]
#: How long a fetch of several messages may wait for what is already available.
BURST_WAIT_S = 0.02


class PullLoop:
    def __init__(
        self,
        spec: ConsumerSpec,
        handle: MessageHandler,
        *,
        concurrency: int = 1,
        fetch_timeout: float = 1.0,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.spec = spec
        self.handle = handle
        self.concurrency = concurrency
        self.fetch_timeout = fetch_timeout
        #: Free places that make a fetch worth its round trip: under a backlog, asking
        #: for one message each time one finished cost a JetStream request per message
        #: (a quarter of ``concurrency`` at a time instead; an idle loop still asks at
        #: once, and a loop of one fetches each time).
        self._refill_at = max(1, concurrency // 4)
        self._subscription: JetStreamContext.PullSubscription | None = None
        self._task: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._stopping = False

    async def start(self, js: JetStreamContext) -> None:
        """Bind to the durable that provisioning created (never create one here)."""
        metrics.preset_consumer_counters(self.spec.stream, self.spec.durable_name)
        self._stopping = False
        self._subscription = await js.pull_subscribe_bind(
            durable=self.spec.durable_name, stream=self.spec.stream
        )
        self._task = asyncio.create_task(self._run(), name=f"pull {self.spec.durable_name}")

    async def _run(self) -> None:
        assert self._subscription is not None
        while not self._stopping:
            if len(self._in_flight) > self.concurrency - self._refill_at:
                await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
                continue
            try:
                messages = await self._fetch(self.concurrency - len(self._in_flight))
            except (TimeoutError, nats.errors.TimeoutError):
                continue  # nothing to do for now
            except nats.errors.Error as exc:
                if self._stopping:
                    break
                logger.warning("consumer %s: fetch failed: %r", self.spec.durable_name, exc)
                await asyncio.sleep(min(self.fetch_timeout, 0.5))
                continue
            for message in messages:
                self._spawn(message)

    async def _fetch(self, room: int) -> list[Msg]:
        """Up to ``room`` messages, without waiting for a batch to fill.

        nats-py's ``fetch(n)`` returns at once what is already there, but when nothing
        is, its long poll waits until ``n`` messages arrived or the timeout ran out:
        one message on a quiet consumer would wait the whole ``fetch_timeout`` (we saw
        0.9 s per hop). So: take what is there (a short fetch of ``room``), and when
        nothing is, long-poll for ONE message, which returns the moment it arrives; the
        next round then takes whatever followed it.
        """
        assert self._subscription is not None
        if room > 1:
            with contextlib.suppress(TimeoutError, nats.errors.TimeoutError):
                return await self._subscription.fetch(room, timeout=BURST_WAIT_S)
        return await self._subscription.fetch(1, timeout=self.fetch_timeout)

    def _spawn(self, message: Msg) -> None:
        task = asyncio.create_task(self.handle(message))
        self._in_flight.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error(
                "consumer %s: handler crashed (message left unacked, it is redelivered)",
                self.spec.durable_name,
                exc_info=task.exception(),
            )

    async def stop(self, drain_s: float) -> None:
        """Stop fetching, let in-flight messages finish (up to ``drain_s``), unsubscribe.

        Messages still running after ``drain_s`` are cancelled unacked: JetStream hands
        them to another replica after the ack wait.
        """
        self._stopping = True
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, self.fetch_timeout + 1.0)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        if self._in_flight:
            _, late = await asyncio.wait(self._in_flight, timeout=drain_s)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
        if self._subscription is not None:
            with contextlib.suppress(nats.errors.Error):
                await self._subscription.unsubscribe()
        self._subscription = None
        self._task = None
