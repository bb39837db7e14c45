"""JetStream KV buckets that services share as live configuration (the identity keys,
revoked sessions, channel routes): opened or created alike by every side, written by
their owner (:class:`BucketMirror`) and followed by readers (current entries, then every
change: :class:`BucketFollower`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import nats.errors
from nats.js.api import KeyValueConfig, StorageType
from nats.js.client import JetStreamContext
from nats.js.errors import BucketNotFoundError, NoKeysError
from nats.js.kv import KeyValue

from cauce_runtime._background import BackgroundTask
from cauce_runtime._errors import BusUnavailable
from cauce_runtime.bus._bus import Bus

logger = logging.getLogger(__name__)

#: How long start waits for a bucket's current entries before serving anyway.
INITIAL_LOAD_S = 5.0


async def key_value_bucket(
    js: JetStreamContext, bucket: str, *, replicas: int = 1, ttl_s: float | None = None
) -> KeyValue:
    """The bucket, created on first use (one value per key; ``ttl_s``: entries expire)."""
    try:
        return await js.key_value(bucket)
    except BucketNotFoundError:
        config = KeyValueConfig(
            bucket=bucket, history=1, ttl=ttl_s, storage=StorageType.FILE, replicas=replicas
        )
        return await js.create_key_value(config=config)


class BucketFollower:
    """Applies every entry of a bucket, its current ones and then each change, for as
    long as the service runs; from when its bus is connected (a service started while
    NATS is down catches up then), reopening the watch after a connection loss."""

    def __init__(
        self,
        bus: Bus,
        bucket: str,
        apply: Callable[[KeyValue.Entry], None],
        *,
        ttl_s: float | None = None,
        poll_s: float = 0.2,
    ) -> None:
        self.bus = bus
        self.bucket = bucket
        self.apply = apply
        self.ttl_s = ttl_s
        self._poll_s = poll_s
        self._task = BackgroundTask(f"kv-follow-{bucket}")
        self.loaded = asyncio.Event()

    async def start(self, wait_s: float = INITIAL_LOAD_S) -> None:
        """Follow the bucket; return once its current entries are applied (or after
        ``wait_s``, following on in the background). With the bus not connected yet
        (NATS down at start) it returns at once: the service starts, and catches up."""
        self._task.start(self._run())
        if not self.bus.started:
            return
        try:
            async with asyncio.timeout(wait_s):
                await self.loaded.wait()
        except TimeoutError:
            logger.warning("KV bucket %s not loaded in %.0f s; following on", self.bucket, wait_s)

    async def stop(self) -> None:
        await self._task.stop()

    async def _open(self) -> KeyValue:
        while True:
            if self.bus.started:
                try:
                    return await key_value_bucket(
                        self.bus.connection.jetstream(),
                        self.bucket,
                        replicas=self.bus.settings.stream_replicas,
                        ttl_s=self.ttl_s,
                    )
                except (nats.errors.Error, BusUnavailable) as exc:
                    logger.warning("KV bucket %s not reachable (%r); retrying", self.bucket, exc)
            await asyncio.sleep(self._poll_s)

    async def _run(self) -> None:
        bucket = await self._open()
        while True:
            try:
                watcher = await bucket.watchall()
                while True:
                    try:
                        entry = await watcher.updates(timeout=60.0)  # type: ignore[no-untyped-call]
                    except nats.errors.TimeoutError:
                        continue  # no change for a minute
                    if entry is None:
                        self.loaded.set()  # the bucket's current entries are all applied
                    else:
                        self._apply(entry)
            except nats.errors.Error as exc:
                logger.warning(
                    "watch of KV bucket %s interrupted (%r); reopening", self.bucket, exc
                )
            await asyncio.sleep(1.0)

    def _apply(self, entry: KeyValue.Entry) -> None:
        try:
            self.apply(entry)
        except Exception:  # one bad entry must not stop the watch
            logger.exception("KV bucket %s: entry %s not applied", self.bucket, entry.key)


class BucketMirror:
    """Keeps a bucket equal to a source the service owns (its channel accounts, its
    companies' settings): :meth:`changed` writes the difference at once; every
    ``reconcile_s`` everything is written again (an entry the bucket lost, a write that
    failed while NATS was down, another replica's change)."""

    def __init__(
        self,
        bus: Bus,
        bucket: str,
        entries: Callable[[], Awaitable[dict[str, bytes]]],
        *,
        reconcile_s: float = 300.0,
        retry_s: float = 2.0,
    ) -> None:
        self.bus = bus
        self.bucket = bucket
        self.entries = entries
        self.reconcile_s = reconcile_s
        self.retry_s = retry_s
        self._written: dict[str, bytes] | None = None  # None: compare with the bucket
        self._wake = asyncio.Event()
        self._task = BackgroundTask(f"kv-mirror-{bucket}")

    async def start(self) -> None:
        await self._try_write()
        self._task.start(self._run())

    async def stop(self) -> None:
        await self._task.stop()

    def changed(self) -> None:
        """The source changed: write the difference now (in the background)."""
        self._wake.set()

    async def write(self) -> None:
        """Make the bucket hold exactly the source's entries."""
        wanted = await self.entries()
        bucket = await key_value_bucket(
            self.bus.connection.jetstream(),
            self.bucket,
            replicas=self.bus.settings.stream_replicas,
        )
        written = self._written
        if written is None:
            written = {}
            with contextlib.suppress(NoKeysError):
                written = dict.fromkeys(await bucket.keys(), b"")
        for key, value in wanted.items():
            if written.get(key) != value:
                await bucket.put(key, value)
        for key in written.keys() - wanted.keys():
            await bucket.delete(key)
        self._written = wanted

    async def _run(self) -> None:
        while True:
            # after a failed pass the next comes soon rather than at the next period
            wait_s = self.reconcile_s if self._written is not None else self.retry_s
            try:
                async with asyncio.timeout(wait_s):
                    await self._wake.wait()
            except TimeoutError:
                self._written = None  # a periodic pass writes everything again
            self._wake.clear()
            await self._try_write()

    async def _try_write(self) -> None:
        try:
            await self.write()
        except (nats.errors.Error, BusUnavailable) as exc:
            self._written = None
            logger.warning("KV bucket %s not written (%r); retrying", self.bucket, exc)
