"""Keeps a :class:`TokenVerifier` current from JetStream KV: the identity service's
public keys and the sessions it revoked, as they change, on every replica."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

import nats.errors
from nats.js.kv import KV_DEL, KV_PURGE, KeyValue

from cauce_runtime._background import BackgroundTask
from cauce_runtime.bus import Bus
from cauce_runtime.identity._buckets import revoked_sessions_bucket, signing_keys_bucket
from cauce_runtime.identity._verifier import TokenVerifier, public_key_from_jwk

logger = logging.getLogger(__name__)

#: How long start waits for the buckets' current entries before serving anyway (a
#: token signed by a key not yet seen is refused with 401 until it arrives).
INITIAL_LOAD_S = 5.0


class IdentityWatch:
    """Follows both identity buckets for ``verifier`` while the service runs (from when
    its bus is connected: a service started while NATS is down catches up then)."""

    def __init__(self, verifier: TokenVerifier, bus: Bus, *, poll_s: float = 0.2) -> None:
        self.verifier = verifier
        self.bus = bus
        self._poll_s = poll_s
        self._task = BackgroundTask("identity-watch")
        self._loaded = asyncio.Event()

    async def start(self) -> None:
        """Follow both buckets; return once their current entries are applied (or after
        :data:`INITIAL_LOAD_S`, serving meanwhile)."""
        self._task.start(self._run())
        try:
            async with asyncio.timeout(INITIAL_LOAD_S):
                await self._loaded.wait()
        except TimeoutError:
            logger.warning("identity keys not loaded in %.0f s; following on", INITIAL_LOAD_S)

    async def stop(self) -> None:
        await self._task.stop()

    async def _run(self) -> None:
        while True:
            if self.bus.started:
                try:
                    js = self.bus.connection.jetstream()
                    replicas = self.bus.settings.stream_replicas
                    keys = await signing_keys_bucket(js, replicas)
                    revoked = await revoked_sessions_bucket(js, replicas)
                    break
                except nats.errors.Error as exc:
                    logger.warning("identity buckets not reachable (%r); retrying", exc)
            await asyncio.sleep(self._poll_s)
        keys_loaded, revoked_loaded = asyncio.Event(), asyncio.Event()

        async def both_loaded() -> None:
            await keys_loaded.wait()
            await revoked_loaded.wait()
            self._loaded.set()

        await asyncio.gather(
            _follow(keys, self._key_changed, keys_loaded.set),
            _follow(revoked, self._session_revoked, revoked_loaded.set),
            both_loaded(),
        )

    def _key_changed(self, entry: KeyValue.Entry) -> None:
        if entry.operation in (KV_DEL, KV_PURGE) or not entry.value:
            self.verifier.remove_key(entry.key)
            return
        try:
            self.verifier.add_key(entry.key, public_key_from_jwk(entry.value.decode()))
        except (ValueError, json.JSONDecodeError):
            logger.error("identity key %s in KV is not an Ed25519 public JWK; ignored", entry.key)

    def _session_revoked(self, entry: KeyValue.Entry) -> None:
        if entry.operation in (KV_DEL, KV_PURGE) or not entry.value:
            return  # aged out: the session's tokens have expired by now
        try:
            until = float(json.loads(entry.value)["until"])
        except (ValueError, KeyError, TypeError):
            logger.error("revoked session entry %s is malformed; ignored", entry.key)
            return
        self.verifier.revoke_session(entry.key, until)


async def _follow(
    bucket: KeyValue,
    apply: Callable[[KeyValue.Entry], None],
    loaded: Callable[[], None],
    retry_s: float = 1.0,
) -> None:
    """Apply every entry of ``bucket`` (current, then changes); the watch is opened again
    after a connection loss."""
    while True:
        try:
            watcher = await bucket.watchall()
            while True:
                try:
                    entry = await watcher.updates(timeout=60.0)  # type: ignore[no-untyped-call]
                except nats.errors.TimeoutError:
                    continue  # no change for a minute
                if entry is None:
                    loaded()  # the bucket's current entries are all applied
                else:
                    apply(entry)
        except nats.errors.Error as exc:
            logger.warning("identity watch interrupted (%r); reopening", exc)
        await asyncio.sleep(retry_s)
