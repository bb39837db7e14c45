"""Bearer admin token for the notifier's operator APIs (/admin/channels, /messages)."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request
from pydantic import SecretStr


def bearer_guard(admin_token: SecretStr) -> Callable[[Request], Awaitable[None]]:
    """A FastAPI dependency: 401 unless ``Authorization: Bearer <admin token>``.

    Compared in constant time; an empty configured token refuses everyone rather than
    letting an empty header in. The 401 becomes problem+json through the app's handlers.
    """
    expected = admin_token.get_secret_value().encode()

    async def require_admin(request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, offered = header.partition(" ")
        valid = (
            bool(expected)
            and scheme.lower() == "bearer"
            and hmac.compare_digest(expected, offered.strip().encode())
        )
        if not valid:
            raise HTTPException(
                status_code=401,
                detail="a valid admin bearer token is required",
                headers={"WWW-Authenticate": 'Bearer realm="cauce-notifier"'},
            )

    return require_admin
