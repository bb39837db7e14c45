"""Consumer lag and stream sizes, polled from JetStream for ``/metrics``.

JetStream knows how far behind each durable is (``num_pending``: not yet delivered;
``num_ack_pending``: delivered, not yet acked; ``num_redelivered``) and how much each
stream holds; a handler never sees those numbers. :class:`JetStreamLagPoller` asks
for them every ``interval_s`` and leaves the answers in
:data:`cauce_runtime.telemetry.metrics.LAG_READINGS`, which the observable gauges
``cauce_consumer_pending``, ``cauce_consumer_ack_pending``,
``cauce_consumer_redelivered``, ``cauce_stream_messages``,
``cauce_stream_size_bytes`` and ``cauce_jetstream_storage_{used,limit}_bytes`` (the
account's file storage against its limit, for the storage alert) report at scrape
time.

Every replica of a service polls the same durables, so the series differ only by
instance: dashboards and alerts take ``max by (stream, consumer)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable

import nats.errors
import nats.js.errors
from nats.js.manager import JetStreamManager

from cauce_runtime.bus._spec import ConsumerSpec
from cauce_runtime.telemetry.metrics import (
    LAG_READINGS,
    ConsumerLag,
    LagReadings,
    StorageUse,
    StreamSize,
)

logger = logging.getLogger(__name__)

#: Default seconds between polls: a quarter of a typical 1-minute scrape-and-alert step.
DEFAULT_INTERVAL_S = 15.0


class _Disconnected(Exception):
    """The connection dropped during a round of readings."""


_POLL_ERRORS: tuple[type[BaseException], ...] = (
    _Disconnected,
    TimeoutError,
    nats.errors.Error,
    nats.js.errors.Error,
    OSError,
)


class JetStreamLagPoller:
    """Polls ``consumer_info`` of ``consumers`` and ``stream_info`` of ``streams``."""

    def __init__(
        self,
        consumers: Iterable[ConsumerSpec],
        streams: Iterable[str],
        *,
        interval_s: float = DEFAULT_INTERVAL_S,
        readings: LagReadings = LAG_READINGS,
        max_storage_bytes: int | None = None,
    ) -> None:
        self.consumers = [(spec.stream, spec.durable_name) for spec in consumers]
        self.max_storage_bytes = max_storage_bytes
        self.streams = list(dict.fromkeys(streams))
        self.interval_s = interval_s
        self.readings = readings
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def poll_once(
        self, jsm: JetStreamManager, connected: Callable[[], bool] = lambda: True
    ) -> bool:
        """One round of readings; False (and the readings dropped) when JetStream
        could not answer, so no gauge shows a value that is no longer true.

        ``connected`` is checked before each request: while nats-py reconnects it
        buffers requests, and a buffered one would outlive this round.
        """
        try:
            consumers: dict[tuple[str, str], ConsumerLag] = {}
            for stream, durable in self.consumers:
                if not connected():
                    raise _Disconnected
                try:
                    info = await jsm.consumer_info(stream, durable)
                except nats.js.errors.NotFoundError:
                    continue  # deleted under us; provisioning recreates it at next start
                consumers[(stream, durable)] = ConsumerLag(
                    pending=info.num_pending or 0,
                    ack_pending=info.num_ack_pending or 0,
                    redelivered=info.num_redelivered or 0,
                )
            streams: dict[str, StreamSize] = {}
            for name in self.streams:
                if not connected():
                    raise _Disconnected
                try:
                    state = (await jsm.stream_info(name)).state
                except nats.js.errors.NotFoundError:
                    continue
                streams[name] = StreamSize(messages=state.messages, bytes=state.bytes)
            if not connected():
                raise _Disconnected
            storage = await self._storage(jsm)
        except _POLL_ERRORS as exc:
            logger.debug("JetStream lag poll failed: %r", exc)
            self.readings.forget(self)
            return False
        self.readings.update(self, consumers, streams, storage)
        return True

    async def _storage(self, jsm: JetStreamManager) -> StorageUse:
        account = await jsm.account_info()
        own_limit = account.limits.max_storage if account.limits else None
        limit = own_limit if own_limit and own_limit > 0 else self.max_storage_bytes
        return StorageUse(used_bytes=account.storage, limit_bytes=limit)

    def start(self, jsm: JetStreamManager, connected: Callable[[], bool]) -> None:
        """Poll now and then every ``interval_s`` until :meth:`stop`.

        While ``connected()`` is false nothing is asked (nats-py would buffer the
        requests until the connection is back) and the readings are dropped.
        """
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(jsm, connected), name="jetstream lag poller")

    async def _run(self, jsm: JetStreamManager, connected: Callable[[], bool]) -> None:
        while not self._stopping:
            await self.poll_once(jsm, connected)
            await asyncio.sleep(self.interval_s)

    async def stop(self) -> None:
        """Stop polling and drop the readings.

        A cancellation that lands while nats-py's request is inside Python 3.11's
        ``wait_for`` can be swallowed; the loop also checks a flag, and the task is
        cancelled again until it is done.
        """
        self._stopping = True
        task, self._task = self._task, None
        for _ in range(20):
            if task is None or task.done():
                break
            task.cancel()
            await asyncio.wait({task}, timeout=0.1)
        if task is not None and task.done() and not task.cancelled():
            with contextlib.suppress(Exception):
                task.result()
        self.readings.forget(self)
