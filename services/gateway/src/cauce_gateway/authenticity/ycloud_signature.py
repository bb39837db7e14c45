"""YCloud's ``YCloud-Signature: t=<unix seconds>,s=<hex HMAC-SHA256 of "{t}.{raw body}">``.

The timestamp must be within ``tolerance`` of now, so a captured request cannot be
replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable

from cauce_gateway.authenticity.errors import NotAuthentic

DEFAULT_TOLERANCE_S = 300.0


def ycloud_signature(body: bytes, secret: bytes, timestamp: int) -> str:
    """The header value YCloud would send (used by tests and the sandbox)."""
    signed = f"{timestamp}.".encode() + body
    return f"t={timestamp},s={hmac.new(secret, signed, hashlib.sha256).hexdigest()}"


def _parse_header(header: str) -> tuple[int, bytes]:
    fields: dict[str, str] = {}
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if sep:
            fields[key] = value
    try:
        return int(fields["t"]), fields["s"].strip().lower().encode()
    except (KeyError, ValueError):
        raise NotAuthentic("YCloud-Signature must look like 't=<seconds>,s=<hex>'") from None


def verify_ycloud_signature(
    body: bytes,
    header: str | None,
    secrets: Iterable[bytes],
    *,
    now: float | None = None,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> None:
    if not header:
        raise NotAuthentic("missing YCloud-Signature header")
    timestamp, offered = _parse_header(header)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        raise NotAuthentic("YCloud-Signature timestamp is outside the tolerance")
    signed = f"{timestamp}.".encode() + body
    matched = False
    for secret in secrets:
        expected = hmac.new(secret, signed, hashlib.sha256).hexdigest().encode()
        matched |= hmac.compare_digest(expected, offered)
    if not matched:
        raise NotAuthentic("YCloud-Signature does not match the body")
