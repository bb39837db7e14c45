"""Meta's ``X-Hub-Signature-256``: ``sha256=`` + hex HMAC-SHA256 of the raw body."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from cauce_gateway.authenticity.errors import NotAuthentic

PREFIX = "sha256="


def meta_signature(body: bytes, app_secret: bytes) -> str:
    """The header value Meta would send for ``body`` (used by tests and the sandbox)."""
    return PREFIX + hmac.new(app_secret, body, hashlib.sha256).hexdigest()


def verify_meta_signature(body: bytes, header: str | None, app_secrets: Iterable[bytes]) -> None:
    """Raise :class:`NotAuthentic` unless ``header`` signs ``body`` with one of the secrets.

    Several secrets are accepted so an app secret can be rotated without downtime.
    """
    if not header:
        raise NotAuthentic("missing X-Hub-Signature-256 header")
    if not header.startswith(PREFIX):
        raise NotAuthentic("X-Hub-Signature-256 must start with 'sha256='")
    offered = header[len(PREFIX) :].strip().lower().encode()
    matched = False
    for secret in app_secrets:
        expected = hmac.new(secret, body, hashlib.sha256).hexdigest().encode()
        matched |= hmac.compare_digest(expected, offered)
    if not matched:
        raise NotAuthentic("X-Hub-Signature-256 does not match the body")
