"""Sessions revoked before their access tokens expire (logout, password change, a
replayed refresh token, a revoked API key): written to the JetStream KV bucket every
verifier follows, so a revoked token stops working everywhere within moments."""

from __future__ import annotations

import json
import time

from cauce_runtime import Bus
from cauce_runtime.identity import revoked_sessions_bucket


class SessionRevocations:
    def __init__(self, bus: Bus, access_token_ttl_s: int) -> None:
        self.bus = bus
        self.access_token_ttl_s = access_token_ttl_s

    async def revoke(self, *session_ids: str) -> None:
        """Refuse the sessions' access tokens from now until they would have expired."""
        if not session_ids:
            return
        js = self.bus.connection.jetstream()
        bucket = await revoked_sessions_bucket(js, self.bus.settings.stream_replicas)
        until = json.dumps({"until": time.time() + self.access_token_ttl_s}).encode()
        for session_id in session_ids:
            await bucket.put(session_id, until)
