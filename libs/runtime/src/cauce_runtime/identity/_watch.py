"""Keeps a :class:`TokenVerifier` current from JetStream KV: the identity service's
public keys and the sessions it revoked, as they change, on every replica."""

from __future__ import annotations

import asyncio
import json
import logging

from nats.js.kv import KV_DEL, KV_PURGE, KeyValue

from cauce_contracts.identity import REVOKED_SESSIONS_BUCKET, SIGNING_KEYS_BUCKET
from cauce_runtime.bus import BucketFollower, Bus
from cauce_runtime.identity._buckets import KEY_KEPT_S, REVOKED_FOR_S
from cauce_runtime.identity._verifier import TokenVerifier, public_key_from_jwk

logger = logging.getLogger(__name__)


class IdentityWatch:
    """Follows both identity buckets for ``verifier`` while the service runs."""

    def __init__(self, verifier: TokenVerifier, bus: Bus) -> None:
        self.verifier = verifier
        self._followers = (
            BucketFollower(bus, SIGNING_KEYS_BUCKET, self._key_changed, ttl_s=KEY_KEPT_S),
            BucketFollower(
                bus, REVOKED_SESSIONS_BUCKET, self._session_revoked, ttl_s=REVOKED_FOR_S
            ),
        )

    async def start(self) -> None:
        """Return once both buckets' current entries are applied (or after a bounded
        wait: a token signed by a key not seen yet is refused with 401 until it is)."""
        await asyncio.gather(*(follower.start() for follower in self._followers))

    async def stop(self) -> None:
        for follower in self._followers:
            await follower.stop()

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
