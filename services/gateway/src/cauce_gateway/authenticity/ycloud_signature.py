"""YCloud's ``YCloud-Signature: t=<unix seconds>,s=<hex HMAC-SHA256 of "{t}.{raw body}">``."""

from __future__ import annotations

from collections.abc import Iterable

from cauce_gateway.authenticity import timestamped_hmac
from cauce_gateway.authenticity.timestamped_hmac import DEFAULT_TOLERANCE_S

__all__ = ["DEFAULT_TOLERANCE_S", "verify_ycloud_signature", "ycloud_signature"]


def ycloud_signature(body: bytes, secret: bytes, timestamp: int) -> str:
    """The header value YCloud would send (used by tests and the sandbox)."""
    return timestamped_hmac.sign(body, secret, timestamp, "s")


def verify_ycloud_signature(
    body: bytes,
    header: str | None,
    secrets: Iterable[bytes],
    *,
    now: float | None = None,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> None:
    timestamped_hmac.verify(
        body,
        header,
        list(secrets),
        header_name="YCloud-Signature",
        mac_name="s",
        now=now,
        tolerance_s=tolerance_s,
    )
