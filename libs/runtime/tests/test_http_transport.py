"""The default transport under ``traced_http_client`` (aiohttp) over real sockets: it
speaks HTTP like httpx does, and says "never sent" (``ConnectError``/``ConnectTimeout``)
only when the request really never left; payments and crm-sync retry non-idempotent
calls on exactly that."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest

from cauce_runtime import traced_http_client

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def tcp_server(handler: Handler) -> AsyncIterator[str]:
    """A raw TCP server on 127.0.0.1 running ``handler`` per connection; its base URL."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        ),
        0,
    )
    return head + await reader.readexactly(length)


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_requests_and_responses_go_through_unchanged() -> None:
    received: list[bytes] = []

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(2):  # the second request reuses the kept-alive connection
            received.append(await read_request(reader))
            body = b'{"messages": [{"id": "wamid.1"}]}'
            writer.write(
                b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                b"Retry-After: 3\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
            )
            await writer.drain()
        writer.close()

    async with tcp_server(echo) as url, traced_http_client(timeout=5) as http:
        for _ in range(2):
            response = await http.post(
                f"{url}/v23.0/100000000000001/messages?x=1",
                json={"to": "573001234567"},
                headers={"Authorization": "Bearer t"},
            )
            assert response.status_code == 201
            assert response.json() == {"messages": [{"id": "wamid.1"}]}
            assert response.headers["retry-after"] == "3"
    assert len(received) == 2
    first = received[0]
    assert first.startswith(b"POST /v23.0/100000000000001/messages?x=1 HTTP/1.1\r\n")
    assert b"authorization: Bearer t" in first.lower().replace(b"bearer", b"Bearer")
    assert first.endswith(b'{"to":"573001234567"}')


async def test_nobody_listening_is_a_connect_error() -> None:
    async with traced_http_client(timeout=5) as http:
        with pytest.raises(httpx.ConnectError):
            await http.post(f"http://127.0.0.1:{unused_port()}/x", json={})


async def test_a_server_hanging_up_after_the_request_is_not_never_sent() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.close()

    async with tcp_server(hang_up) as url, traced_http_client(timeout=5) as http:
        with pytest.raises(httpx.TransportError) as raised:
            await http.post(f"{url}/x", json={"amount": 1})
    assert not isinstance(raised.value, httpx.ConnectError | httpx.ConnectTimeout)
    assert isinstance(raised.value, httpx.RemoteProtocolError | httpx.ReadError)


async def test_no_answer_in_time_is_a_read_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(2)
        writer.close()

    async with tcp_server(silent) as url, traced_http_client(timeout=0.3) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.post(f"{url}/x", json={})


async def test_a_body_cut_short_is_a_read_error() -> None:
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"partial":')
        await writer.drain()
        writer.close()

    async with tcp_server(cut) as url, traced_http_client(timeout=5) as http:
        with pytest.raises(httpx.TransportError) as raised:
            await http.post(f"{url}/x", json={})
    assert not isinstance(raised.value, httpx.ConnectError | httpx.ConnectTimeout)
