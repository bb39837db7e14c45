"""Signed, expiring links to a company's files, for agents' screens.

A link is ``/api/media/{company}/{sha256}?expires={unix time}&signature={hex}``: an
HMAC-SHA256 (``CAUCE_MEDIA_LINK_KEY``) of the object name and the expiry, so an
``<img src>`` works without an ``Authorization`` header while nobody can make a link
to another object, to another company's file, or one that lasts longer. Links are
minted when a caller allowed to see the message reads it, and last
``CAUCE_MEDIA_LINK_TTL_S``.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlencode

#: Where the files are served (the conversation's route).
MEDIA_PATH = "/api/media"


class MediaLinks:
    def __init__(self, key: bytes, ttl_s: int) -> None:
        self._key = key
        self.ttl_s = ttl_s

    def _signature(self, object_name: str, expires: int) -> str:
        message = f"{object_name}\n{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def link(self, object_name: str, now: float | None = None, ttl_s: int | None = None) -> str:
        """A path (``/api/media/...``) to the object, good for ``ttl_s`` (the default
        TTL when None)."""
        expires = int((time.time() if now is None else now) + (ttl_s or self.ttl_s))
        query = urlencode({"expires": expires, "signature": self._signature(object_name, expires)})
        return f"{MEDIA_PATH}/{object_name}?{query}"

    def valid(
        self, object_name: str, expires: int, signature: str, now: float | None = None
    ) -> bool:
        """The link is ours, for this object, and not expired."""
        if expires < (time.time() if now is None else now):
            return False
        return hmac.compare_digest(self._signature(object_name, expires), signature)
