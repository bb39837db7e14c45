"""The messaging providers' errors, and the mappers from each provider's error answers.

The classes are the runtime's outside-call branches (:mod:`cauce_runtime._errors`) with
the meanings a messaging provider adds::

    ProviderError(OutsideCallError)            code, message, detail, http_status
    ├── RetryableProviderError(RetryableCallError)   5xx, timeouts, not reachable
    │   ├── RateLimited                  HTTP 429, Meta 130429/80007/4/131048, YCloud 429
    │   ├── PairRateLimited              Meta 131056: back off this recipient only
    │   ├── CredentialsRejected(runtime CredentialsRejected)
    │   │                                Meta 190 / HTTP 401 (Chattigo: after one re-login)
    │   └── AnswerLost(OutcomeUnknown)   sent, no answer: the provider may have it
    └── PermanentProviderError(PermanentCallError)  100, 131026, 368, templates, other 4xx
        └── OutsideServiceWindow         Meta 131047: 24 h window closed, send a template

``CredentialsRejected`` is retryable on purpose: the message is fine, the account's
credentials are not; delivery marks the account failing and keeps the message for a
retry once someone rotates them.

``code`` is the provider's code as text: Meta's ``error.code`` (``"131047"``), also when
YCloud forwards it; otherwise YCloud's own code (``"INVALID_ARGUMENT"``) or, for
Chattigo, which has no error codes, ``"http_<status>"``; ``timeout``/``connection`` for
a request that got no answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

import cauce_runtime as runtime
from cauce_runtime import (
    OutcomeUnknown,
    OutsideCallError,
    PermanentCallError,
    RetryableCallError,
    retry_after_of,
    transport_failure,
)


class ProviderError(OutsideCallError):
    """A messaging provider refused or could not take a request."""


class RetryableProviderError(ProviderError, RetryableCallError):
    """Transient trouble: the same request may succeed later."""


class RateLimited(RetryableProviderError):
    """The account's throughput limit: slow the whole account down."""


class PairRateLimited(RetryableProviderError):
    """Too many messages to one recipient (Meta 131056): back off that recipient only."""


class CredentialsRejected(RetryableProviderError, runtime.CredentialsRejected):
    """The account's token or login was refused: the account needs new credentials."""


class AnswerLost(RetryableProviderError, OutcomeUnknown):
    """The request left but no answer came (a read timeout, a dropped connection): the
    provider may have the message. Delivery retries it anyway; Meta's API has no
    idempotency key that would let it ask first."""


class PermanentProviderError(ProviderError, PermanentCallError):
    """The request itself is wrong for the provider: retrying cannot help."""


class OutsideServiceWindow(PermanentProviderError):
    """Free-form message outside the 24-hour customer-service window (Meta 131047)."""


def _as_json(body: bytes | str | Mapping[str, Any] | None) -> Mapping[str, Any]:
    if body is None:
        return {}
    if isinstance(body, Mapping):
        return body
    try:
        parsed = json.loads(body)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, Mapping) else {}


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


# --- Meta (WhatsApp Cloud API) --------------------------------------------------------

#: Meta codes meaning "too fast for the account / app": 130429 Cloud API throughput,
#: 80007 WABA rate limit, 4 app call limit, 131048 spam rate limit.
META_RATE_LIMIT_CODES = frozenset({4, 80007, 130429, 131048})
META_PAIR_RATE_LIMIT = 131056
META_OUTSIDE_WINDOW = 131047
#: 190 token expired/invalid; 0 AuthException.
META_CREDENTIALS_CODES = frozenset({0, 190})
#: 1 unknown, 2 service, 131000 generic, 131016 service unavailable, 133004 server
#: temporarily unavailable, 131057 account in maintenance mode.
META_TRANSIENT_CODES = frozenset({1, 2, 131000, 131016, 131057, 133004})
#: Template errors: 132000 (parameter count) to 132069 (flow blocked).
META_TEMPLATE_CODES = range(132000, 132070)
#: Wrong request or recipient, whatever the HTTP status: 100 invalid parameter, 368
#: policy block, 131026 undeliverable, 131008/131009 parameter missing/invalid, 131021
#: recipient is the sender, 131051 unsupported type, 131052/131053 media, 133010 number
#: not registered, 131031 account locked, 131042 payment issue, 10/200 permission.
META_PERMANENT_CODES = frozenset(
    {
        10,
        100,
        200,
        368,
        131008,
        131009,
        131021,
        131026,
        131031,
        131042,
        131051,
        131052,
        131053,
        133010,
    }
)


def _meta_class(code: int | None, http_status: int, is_transient: object) -> type[ProviderError]:
    if code is not None:
        if code in META_RATE_LIMIT_CODES:
            return RateLimited
        if code == META_PAIR_RATE_LIMIT:
            return PairRateLimited
        if code == META_OUTSIDE_WINDOW:
            return OutsideServiceWindow
        if code in META_CREDENTIALS_CODES:
            return CredentialsRejected
        if code in META_TRANSIENT_CODES or is_transient is True:
            return RetryableProviderError
        if code in META_TEMPLATE_CODES or code in META_PERMANENT_CODES:
            return PermanentProviderError
    return _http_class(http_status)


def _http_class(http_status: int) -> type[ProviderError]:
    if http_status == 429:
        return RateLimited
    if http_status == 401:
        return CredentialsRejected
    if http_status >= 500 or http_status == 408:
        return RetryableProviderError
    return PermanentProviderError


def meta_error(
    http_status: int,
    error: Mapping[str, Any],
    headers: Mapping[str, str] | httpx.Headers | None = None,
) -> ProviderError:
    """Map one Meta ``error`` object (the inside of the envelope) to the tree."""
    code = _int(error.get("code"))
    error_data = error.get("error_data")
    details = _str(error_data.get("details")) if isinstance(error_data, Mapping) else None
    title = (
        _str(error.get("error_user_title"))
        or _str(error.get("title"))
        or _str(error.get("message"))
        or f"HTTP {http_status}"
    )
    detail = details or _str(error.get("error_user_msg"))
    if detail is None and title != error.get("message"):
        detail = _str(error.get("message"))
    cls = _meta_class(code, http_status, error.get("is_transient"))
    return cls(
        title,
        code=str(code) if code is not None else None,
        detail=detail,
        http_status=http_status,
        retry_after=retry_after_of(headers),
    )


def from_meta_error(
    http_status: int,
    body: bytes | str | Mapping[str, Any] | None,
    headers: Mapping[str, str] | httpx.Headers | None = None,
) -> ProviderError:
    """Map a Graph API error answer (``{"error": {"code", "message", ...}}``) to the tree.

    The Meta code decides when there is one; otherwise the HTTP status does (429 rate
    limited, 401 credentials, 5xx/408 retryable, other 4xx permanent).
    """
    error = _as_json(body).get("error")
    if not isinstance(error, Mapping):
        error = {}
    return meta_error(http_status, error, headers)


# --- Chattigo --------------------------------------------------------------------------


def from_chattigo_error(
    http_status: int,
    body: bytes | str | Mapping[str, Any] | None,
    headers: Mapping[str, str] | httpx.Headers | None = None,
) -> ProviderError:
    """Map a Chattigo error answer: it has no error codes, the HTTP status decides.

    401/403 mean the token or login was refused (the client re-logs in once before
    raising this); 429 rate limited; 5xx/408 retryable; other 4xx permanent.
    """
    parsed = _as_json(body)
    title = (
        _str(parsed.get("message"))
        or _str(parsed.get("error"))
        or httpx.codes.get_reason_phrase(http_status)
        or f"HTTP {http_status}"
    )
    cls = CredentialsRejected if http_status == 403 else _http_class(http_status)
    return cls(
        title,
        code=f"http_{http_status}",
        detail=_str(parsed.get("detail")),
        http_status=http_status,
        retry_after=retry_after_of(headers),
    )


# --- YCloud ----------------------------------------------------------------------------

#: YCloud's own codes that mean "too fast" / "try again later".
YCLOUD_RATE_LIMIT_CODES = frozenset(
    {"ACCOUNT_RATE_LIMITED", "TOO_MANY_REQUESTS", "RATE_LIMITED", "RESOURCE_EXHAUSTED"}
)
YCLOUD_CREDENTIALS_CODES = frozenset({"UNAUTHORIZED", "UNAUTHENTICATED", "INVALID_API_KEY"})


def from_ycloud_error(
    http_status: int,
    body: bytes | str | Mapping[str, Any] | None,
    headers: Mapping[str, str] | httpx.Headers | None = None,
) -> ProviderError:
    """Map a YCloud error answer to the tree.

    YCloud answers ``{"error": {"status", "code", "message", "target", "docUrl",
    "requestId", "whatsappApiError": {<Meta error object>}}}``. When it forwards
    Meta's error, Meta's code decides (so 131047 is still :class:`OutsideServiceWindow`);
    otherwise YCloud's code and the HTTP status do.
    """
    error = _as_json(body).get("error")
    if not isinstance(error, Mapping):
        error = {}
    forwarded = error.get("whatsappApiError")
    if isinstance(forwarded, Mapping) and _int(forwarded.get("code")) is not None:
        return meta_error(http_status, forwarded, headers)
    yc_code = _str(error.get("code"))
    if yc_code in YCLOUD_RATE_LIMIT_CODES:
        cls: type[ProviderError] = RateLimited
    elif yc_code in YCLOUD_CREDENTIALS_CODES:
        cls = CredentialsRejected
    else:
        cls = _http_class(http_status)
    return cls(
        _str(error.get("message")) or yc_code or f"HTTP {http_status}",
        code=yc_code or f"http_{http_status}",
        detail=_str(error.get("target")),
        http_status=http_status,
        retry_after=retry_after_of(headers),
    )


# --- transport -------------------------------------------------------------------------


def from_transport_error(error: httpx.TransportError) -> RetryableProviderError:
    """A request that got no HTTP answer: :class:`RetryableProviderError` when it never
    left, :class:`AnswerLost` when the provider may have it (the runtime's one
    classification, :func:`cauce_runtime.transport_failure`)."""
    failure = transport_failure(
        error, remote="provider", not_sent=RetryableProviderError, sent=AnswerLost
    )
    assert isinstance(failure, RetryableProviderError)
    return failure


__all__ = [
    "AnswerLost",
    "CredentialsRejected",
    "OutsideServiceWindow",
    "PairRateLimited",
    "PermanentProviderError",
    "ProviderError",
    "RateLimited",
    "RetryableProviderError",
    "from_chattigo_error",
    "from_meta_error",
    "from_transport_error",
    "from_ycloud_error",
    "meta_error",
]
