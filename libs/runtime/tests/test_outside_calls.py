"""The outside-call error tree, Retry-After, and the one classification of transport
failures (nothing sent vs outcome unknown), checked against real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from cauce_runtime import (
    AiohttpTransport,
    CauceError,
    CredentialsRejected,
    OutcomeUnknown,
    OutsideCallError,
    PermanentCallError,
    PermanentError,
    RetryableCallError,
    TransientError,
    parse_retry_after,
    retry_after_of,
    transport_failure,
)

NOW = datetime(2026, 12, 6, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 1.5 ", 1.5),
        ("-5", 0.0),
        ("Sun, 06 Dec 2026 12:00:30 GMT", 30.0),  # an HTTP-date
        ("Sun, 06 Dec 2026 11:00:00 GMT", 0.0),  # in the past
        ("inf", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(value: str | None, seconds: float) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


def test_retry_after_is_found_whatever_the_header_case() -> None:
    assert retry_after_of({"RETRY-AFTER": "7"}) == 7.0
    assert retry_after_of(httpx.Headers({"retry-after": "3"})) == 3.0
    assert retry_after_of({"content-type": "text/plain"}) is None
    assert retry_after_of(None) is None


def test_the_tree_and_its_mapping_to_consumer_errors() -> None:
    for branch in (RetryableCallError, CredentialsRejected, OutcomeUnknown, PermanentCallError):
        assert issubclass(branch, OutsideCallError)
        assert issubclass(branch, CauceError)
    assert CredentialsRejected.retryable and OutcomeUnknown.retryable
    assert OutcomeUnknown.outcome_unknown and not CredentialsRejected.outcome_unknown
    assert not PermanentCallError.retryable

    busy = RetryableCallError("busy", code="http_503", http_status=503, retry_after=4.0)
    retried = busy.as_consumer_error()
    assert isinstance(retried, TransientError)
    assert retried.retry_after == 4.0
    assert str(retried) == "http_503: busy"
    assert busy.as_consumer_error(retry_after=9.0).retry_after == 9.0  # type: ignore[union-attr]

    refused = PermanentCallError("bad number", code="131026").as_consumer_error()
    assert isinstance(refused, PermanentError)
    assert refused.reason == "131026: bad number"


@contextlib.asynccontextmanager
async def server(behaviour: str) -> AsyncIterator[str]:
    """A loopback server that reads the request, then hangs up or stays silent."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        if behaviour == "silent":
            await asyncio.sleep(5)
        writer.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    async with srv:
        yield f"http://127.0.0.1:{port}/"


def _refused_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/"


async def _failure(url: str) -> httpx.RequestError:
    async with httpx.AsyncClient(transport=AiohttpTransport(), timeout=0.5) as client:
        with pytest.raises(httpx.RequestError) as raised:
            await client.post(url, content=b"{}")
    return raised.value


async def test_nothing_sent_when_the_connection_was_refused() -> None:
    failure = transport_failure(await _failure(_refused_url()), remote="SCI")
    assert type(failure) is RetryableCallError
    assert not failure.outcome_unknown
    assert failure.code == "connection"
    assert failure.message.startswith("SCI unreachable (")


@pytest.mark.parametrize(("behaviour", "code"), [("hang up", "connection"), ("silent", "timeout")])
async def test_outcome_unknown_once_the_request_left(behaviour: str, code: str) -> None:
    async with server(behaviour) as url:
        failure = transport_failure(await _failure(url), remote="Odoo")
    assert isinstance(failure, OutcomeUnknown)
    assert failure.code == code
    assert failure.message.startswith("no answer from Odoo (")


def test_callers_choose_their_classes() -> None:
    class Unavailable(RetryableCallError):
        pass

    class Lost(Unavailable, OutcomeUnknown):
        pass

    request = httpx.Request("POST", "http://x/")
    sent = transport_failure(
        httpx.ReadTimeout("t", request=request), remote="x", not_sent=Unavailable, sent=Lost
    )
    assert type(sent) is Lost and sent.outcome_unknown
    not_sent = transport_failure(
        httpx.ConnectError("c", request=request), remote="x", not_sent=Unavailable, sent=Lost
    )
    assert type(not_sent) is Unavailable
    # an idempotent call may ask for its plain retryable class either way
    read = transport_failure(
        httpx.ReadError("r", request=request), remote="x", not_sent=Unavailable, sent=Unavailable
    )
    assert type(read) is Unavailable
