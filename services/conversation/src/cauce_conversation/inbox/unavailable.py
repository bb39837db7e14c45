"""MongoDB or NATS down answers 503 with ``Retry-After`` (problem+json), on every inbox
route, instead of a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import HTTPException

from cauce_runtime import TransientError

#: The OpenAPI entry of the 503 the dependency below answers.
UNAVAILABLE_RESPONSE: dict[int | str, dict[str, Any]] = {
    503: {"description": "MongoDB or NATS unavailable; retry"}
}


async def unavailable_as_503() -> AsyncIterator[None]:
    """A router dependency: a :class:`TransientError` raised by a route becomes 503."""
    try:
        yield
    except TransientError as exc:
        retry_after = max(1, round(exc.retry_after or 1))
        raise HTTPException(
            status_code=503,
            detail="a dependency of the inbox is unavailable; retry shortly",
            headers={"Retry-After": str(retry_after)},
        ) from exc
