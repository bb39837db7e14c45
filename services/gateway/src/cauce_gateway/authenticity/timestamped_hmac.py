"""Signatures of the form ``t=<unix seconds>,<name>=<hex HMAC-SHA256 of "{t}.{raw body}">``.

YCloud signs its webhooks this way (``s=``), and so does our SCI TOTAL callback
(``v1=``; SCI's own format is not public, see ``webhooks/sci.py``). The timestamp must
be within ``tolerance`` of now, so a captured request cannot be replayed later.
Several secrets may be valid at once (rotation, or one per tenant): the index of the
matching one is returned, and every secret is tried so the time taken says nothing
about which one matched.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence

from cauce_gateway.authenticity.errors import NotAuthentic

DEFAULT_TOLERANCE_S = 300.0


def sign(body: bytes, secret: bytes, timestamp: int, mac_name: str) -> str:
    """The header value a signer sends (tests and the sandbox use it)."""
    signed = f"{timestamp}.".encode() + body
    return f"t={timestamp},{mac_name}={hmac.new(secret, signed, hashlib.sha256).hexdigest()}"


def _parse(header: str, header_name: str, mac_name: str) -> tuple[int, bytes]:
    fields: dict[str, str] = {}
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if sep:
            fields[key] = value
    try:
        return int(fields["t"]), fields[mac_name].strip().lower().encode()
    except (KeyError, ValueError):
        raise NotAuthentic(f"{header_name} must look like 't=<seconds>,{mac_name}=<hex>'") from None


def verify(
    body: bytes,
    header: str | None,
    secrets: Sequence[bytes],
    *,
    header_name: str,
    mac_name: str,
    now: float | None = None,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> int:
    """The index in ``secrets`` of the secret that signed ``body``, else :class:`NotAuthentic`."""
    if not header:
        raise NotAuthentic(f"missing {header_name} header")
    timestamp, offered = _parse(header, header_name, mac_name)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        raise NotAuthentic(f"{header_name} timestamp is outside the tolerance")
    signed = f"{timestamp}.".encode() + body
    matched = -1
    for index, secret in enumerate(secrets):
        expected = hmac.new(secret, signed, hashlib.sha256).hexdigest().encode()
        if hmac.compare_digest(expected, offered) and matched < 0:
            matched = index
    if matched < 0:
        raise NotAuthentic(f"{header_name} does not match the body")
    return matched
