"""How a failed call to someone else is read: ``Retry-After``, and transport failures.

A transport failure (no HTTP answer) means one of two things, and callers that repeat
non-idempotent calls (payments creating an SCI transaction, crm-sync creating Odoo
records) depend on telling them apart: a failure while connecting (refused, DNS, TLS,
no pool slot, connect timeout) sent nothing; any later one (a read timeout, a dropped
connection) leaves the call's outcome unknown. The runtime's
:class:`~cauce_runtime.calls.AiohttpTransport` keeps httpx's "not sent" names for
failures while connecting only, so this classification holds for its clients.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from cauce_runtime._errors import OutcomeUnknown, RetryableCallError

#: Transport failures raised before the request left: the remote received nothing.
NOT_SENT: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP-date
    (RFC 9110 §10.2.3). None when absent or unreadable; a date in the past is 0."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def retry_after_of(headers: Mapping[str, str] | httpx.Headers | None) -> float | None:
    """The ``Retry-After`` of an answer's headers, in seconds (any header case)."""
    if headers is None:
        return None
    if isinstance(headers, httpx.Headers):
        return parse_retry_after(headers.get("retry-after"))
    wanted = next((value for key, value in headers.items() if key.lower() == "retry-after"), None)
    return parse_retry_after(wanted)


def was_sent(error: httpx.RequestError) -> bool:
    """False when the failure came before the request left (see the module docstring)."""
    return not isinstance(error, NOT_SENT)


def transport_failure(
    error: httpx.RequestError,
    *,
    remote: str,
    not_sent: type[RetryableCallError] = RetryableCallError,
    sent: type[RetryableCallError] = OutcomeUnknown,
) -> RetryableCallError:
    """The call error for a request that got no usable HTTP answer (any httpx request
    error: transport failures, an undecodable body, too many redirects): ``not_sent`` when nothing
    left, else ``sent`` (by default :class:`OutcomeUnknown`; a caller whose call is safe
    to repeat may pass its plain retryable class). ``code`` is ``timeout`` or
    ``connection``; the message names the transport failure. Raise it ``from error``."""
    name = type(error).__name__
    code = "timeout" if isinstance(error, httpx.TimeoutException) else "connection"
    if was_sent(error):
        return sent(f"no answer from {remote} ({name})", code=code)
    return not_sent(f"{remote} unreachable ({name})", code=code)
