"""Our SCI TOTAL payment-status callback: ``X-SCI-Signature: t=<unix seconds>,v1=<hex>``.

SCI TOTAL's own callback format is not public, so cauce defines one (README, "SCI TOTAL
payment status"): the JSON body signed with HMAC-SHA256 over ``"{t}.{raw body}"`` with a
secret shared per tenant, 5-minute tolerance. The secret that matches names the tenant.
"""

from __future__ import annotations

from collections.abc import Sequence

from cauce_gateway.authenticity import timestamped_hmac

HEADER = "X-SCI-Signature"
_MAC_NAME = "v1"


def sci_signature(body: bytes, secret: bytes, timestamp: int) -> str:
    """The header value to send (what an SCI integration, the sandbox and tests sign)."""
    return timestamped_hmac.sign(body, secret, timestamp, _MAC_NAME)


def verify_sci_signature(
    body: bytes,
    header: str | None,
    secrets: Sequence[bytes],
    *,
    now: float | None = None,
    tolerance_s: float = timestamped_hmac.DEFAULT_TOLERANCE_S,
) -> int:
    """The index of the secret that signed ``body`` (:class:`NotAuthentic` if none)."""
    return timestamped_hmac.verify(
        body,
        header,
        secrets,
        header_name=HEADER,
        mac_name=_MAC_NAME,
        now=now,
        tolerance_s=tolerance_s,
    )
