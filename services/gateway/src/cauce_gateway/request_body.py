"""Read a webhook's raw bytes, refusing bodies over the limit before buffering them whole."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import ClientDisconnect
from starlette.types import Receive


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"request body exceeds {limit} bytes")
        self.limit = limit


async def read_body(receive: Receive, headers: Mapping[str, str], limit: int) -> bytes:
    """The exact bytes the channel sent (signatures are over these), at most ``limit``.

    Reads the ASGI ``receive`` channel itself, so FastAPI routes (``request.receive``)
    and the webhook lane read a body the same way. Raises :class:`BodyTooLarge` as soon
    as the declared or the received length passes ``limit``, and Starlette's
    ``ClientDisconnect`` when the channel hangs up mid-body.
    """
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
