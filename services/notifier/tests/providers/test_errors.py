"""The error tree and the mappers from each provider's error answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from cauce_notifier.providers.errors import (
    CredentialsRejected,
    OutsideServiceWindow,
    PairRateLimited,
    PermanentProviderError,
    ProviderError,
    RateLimited,
    RetryableProviderError,
    from_chattigo_error,
    from_meta_error,
    from_ycloud_error,
)


def meta_body(code: int, **extra: Any) -> dict[str, Any]:
    return {
        "error": {"message": f"(#{code}) something", "type": "OAuthException", "code": code} | extra
    }


META_TABLE: list[tuple[int, int, type[ProviderError], bool]] = [
    (429, 130429, RateLimited, True),
    (400, 131056, PairRateLimited, True),
    (400, 131026, PermanentProviderError, False),
    (400, 131047, OutsideServiceWindow, False),
    (400, 100, PermanentProviderError, False),
    (400, 368, PermanentProviderError, False),
    (401, 190, CredentialsRejected, True),
    (400, 132000, PermanentProviderError, False),
    (400, 132001, PermanentProviderError, False),
    (400, 132069, PermanentProviderError, False),
    (500, 131000, RetryableProviderError, True),
    (503, 131016, RetryableProviderError, True),
    (500, 1, RetryableProviderError, True),
    (503, 2, RetryableProviderError, True),
    (400, 80007, RateLimited, True),
]


@pytest.mark.parametrize(("status", "code", "cls", "retryable"), META_TABLE)
def test_meta_codes_map_to_the_right_class(
    status: int, code: int, cls: type[ProviderError], retryable: bool
) -> None:
    error = from_meta_error(status, meta_body(code), {})
    assert type(error) is cls
    assert error.retryable is retryable
    assert error.code == str(code)
    assert error.http_status == status


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (500, RetryableProviderError),
        (502, RetryableProviderError),
        (429, RateLimited),
        (401, CredentialsRejected),
        (400, PermanentProviderError),
        (404, PermanentProviderError),
    ],
)
def test_without_a_meta_code_the_http_status_decides(status: int, cls: type[ProviderError]) -> None:
    error = from_meta_error(status, b"<html>bad gateway</html>", None)
    assert type(error) is cls
    assert error.code is None


def test_is_transient_makes_an_unknown_code_retryable() -> None:
    error = from_meta_error(400, meta_body(999_999, is_transient=True))
    assert type(error) is RetryableProviderError


def test_meta_details_become_the_detail() -> None:
    body = meta_body(131047, error_data={"details": "Message failed: re-engagement"})
    error = from_meta_error(400, body)
    assert isinstance(error, OutsideServiceWindow)
    assert error.detail == "Message failed: re-engagement"


def test_retry_after_seconds_is_honoured() -> None:
    error = from_meta_error(429, meta_body(130429), {"Retry-After": "12"})
    assert isinstance(error, RateLimited)
    assert error.retry_after == 12.0


def test_retry_after_http_date_is_honoured() -> None:
    now = datetime.now(UTC)
    value = format_datetime(now + timedelta(seconds=30), usegmt=True)
    error = from_chattigo_error(429, {}, {"retry-after": value})
    assert isinstance(error, RateLimited)
    assert error.retry_after is not None and 28.0 <= error.retry_after <= 30.0


def test_no_retry_after_means_none() -> None:
    error = from_meta_error(503, meta_body(131016))
    assert isinstance(error, RetryableProviderError)
    assert error.retry_after is None


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, CredentialsRejected),
        (403, CredentialsRejected),
        (429, RateLimited),
        (500, RetryableProviderError),
        (503, RetryableProviderError),
        (400, PermanentProviderError),
        (422, PermanentProviderError),
    ],
)
def test_chattigo_errors_map_by_status(status: int, cls: type[ProviderError]) -> None:
    error = from_chattigo_error(status, b'{"status": 1, "message": "nope"}', {"Retry-After": "3"})
    assert type(error) is cls
    assert error.code == f"http_{status}"
    assert error.message == "nope"
    if isinstance(error, RetryableProviderError):
        assert error.retry_after == 3.0


def test_ycloud_keeps_a_forwarded_meta_code() -> None:
    body = {
        "error": {
            "status": 400,
            "code": "WHATSAPP_API_ERROR",
            "message": "Re-engagement message",
            "whatsappApiError": {"message": "Re-engagement message", "code": 131047},
        }
    }
    error = from_ycloud_error(400, body)
    assert type(error) is OutsideServiceWindow
    assert error.code == "131047"


def test_ycloud_forwarded_throughput_error_keeps_retry_after() -> None:
    body = {"error": {"status": 429, "code": "X", "whatsappApiError": {"code": 130429}}}
    error = from_ycloud_error(429, body, {"retry-after": "4"})
    assert isinstance(error, RateLimited)
    assert error.retry_after == 4.0


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (401, "UNAUTHORIZED", CredentialsRejected),
        (429, "ACCOUNT_RATE_LIMITED", RateLimited),
        (400, "PARAM_INVALID", PermanentProviderError),
        (403, "BALANCE_INSUFFICIENT", PermanentProviderError),
        (500, "INTERNAL_ERROR", RetryableProviderError),
        (503, "SERVICE_UNAVAILABLE", RetryableProviderError),
    ],
)
def test_ycloud_own_codes(status: int, code: str, cls: type[ProviderError]) -> None:
    body = {"error": {"status": status, "code": code, "message": "m"}}
    error = from_ycloud_error(status, body)
    assert type(error) is cls
    assert error.code == code


def test_ycloud_without_a_body_uses_the_status() -> None:
    assert type(from_ycloud_error(502, b"")) is RetryableProviderError
