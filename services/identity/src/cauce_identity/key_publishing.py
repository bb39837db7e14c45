"""The public keys published where every service finds them: the JetStream KV bucket
:data:`~cauce_contracts.identity.SIGNING_KEYS_BUCKET`, again every
:data:`~cauce_runtime.identity.KEY_REPUBLISH_S` (the bucket forgets a key a day after
its last publication, so a retired key leaves once no replica holds it)."""

from __future__ import annotations

import asyncio
import json
import logging

import nats.errors

from cauce_identity.signing import SigningKeys
from cauce_runtime import BackgroundTask, Bus, BusUnavailable
from cauce_runtime.identity import KEY_REPUBLISH_S, signing_keys_bucket

logger = logging.getLogger(__name__)

#: Seconds between tries while the keys could not be published (NATS down at start).
RETRY_S = 2.0


class KeyPublisher:
    def __init__(self, keys: SigningKeys, bus: Bus, *, every_s: float = KEY_REPUBLISH_S) -> None:
        self.keys = keys
        self.bus = bus
        self.every_s = every_s
        self._task = BackgroundTask("identity-key-publisher")

    async def start(self) -> None:
        """Publish now (so verifiers know the key before the first login) and on."""
        published = await self._try_publish()
        self._task.start(self._republish(published))

    async def stop(self) -> None:
        await self._task.stop()

    async def publish(self) -> None:
        js = self.bus.connection.jetstream()
        bucket = await signing_keys_bucket(js, self.bus.settings.stream_replicas)
        for jwk in self.keys.jwks():
            await bucket.put(jwk["kid"], json.dumps(jwk).encode())

    async def _republish(self, published: bool) -> None:
        while True:
            await asyncio.sleep(self.every_s if published else RETRY_S)
            published = await self._try_publish()

    async def _try_publish(self) -> bool:
        try:
            await self.publish()
        except (nats.errors.Error, BusUnavailable) as exc:
            logger.warning("signing keys not published (%r); retrying", exc)
            return False
        return True
