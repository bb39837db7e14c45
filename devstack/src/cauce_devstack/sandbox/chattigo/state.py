"""The Chattigo fake's memory for one sandbox app: the JWTs it issued (so they can expire
mid-run, as the real ones do) and where inbound messages for each number go."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cauce_devstack.sandbox.settings import SandboxSettings


class ChattigoState:
    """Issued tokens and webhook registrations of one sandbox app."""

    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self._secret = secrets.token_bytes(32)
        #: jti -> (username, expiry as unix time); authoritative over the JWT's exp.
        self._tokens: dict[str, tuple[str, float]] = {}
        self.webhooks: dict[str, str] = {}

    def issue(self, username: str) -> tuple[str, str]:
        now = time.time()
        jti = uuid.uuid4().hex
        exp = now + self.settings.chattigo_token_ttl_s
        self._tokens[jti] = (username, exp)
        header = _b64({"alg": "HS512", "typ": "JWT"})
        claims = _b64({"sub": username, "iat": int(now), "exp": int(exp), "jti": jti})
        signature = self._sign(f"{header}.{claims}")
        return f"{header}.{claims}.{signature}", jti

    def check(self, token: str | None) -> str | None:
        """The username of a valid token, else ``None``."""
        if token is None or token.count(".") != 2:
            return None
        signed, _, signature = token.rpartition(".")
        if not hmac.compare_digest(signature, self._sign(signed)):
            return None
        try:
            claims = json.loads(_unb64(signed.split(".")[1]))
        except ValueError:
            return None
        entry = self._tokens.get(str(claims.get("jti")))
        if entry is None or entry[1] <= time.time():
            return None
        return entry[0]

    def expire_all(self) -> int:
        now = time.time()
        live = [jti for jti, (_, exp) in self._tokens.items() if exp > now]
        for jti in live:
            user, _ = self._tokens[jti]
            self._tokens[jti] = (user, now)
        return len(live)

    def _sign(self, signed: str) -> str:
        digest = hmac.new(self._secret, signed.encode(), hashlib.sha512).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _b64(value: dict[str, Any]) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
