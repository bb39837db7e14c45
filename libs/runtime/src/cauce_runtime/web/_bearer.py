"""A bearer-token guard for operator APIs (the notifier's admin API, the inbox...).

One shared implementation so every service compares tokens the same way: in constant
time, refusing everyone when the configured token is empty (rather than letting an
empty header in), and answering 401 with ``WWW-Authenticate`` (rendered as
problem+json by :func:`cauce_runtime.install_problem_handlers`).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request
from pydantic import SecretStr

#: The expected token, or a function reading it per request (e.g. from ``app.state``),
#: for routers built before their settings are known.
TokenSource = SecretStr | Callable[[Request], SecretStr]


def bearer_token_matches(header: str, expected: SecretStr) -> bool:
    """True when ``header`` (an ``Authorization`` value) is ``Bearer <expected>``."""
    wanted = expected.get_secret_value().encode()
    scheme, _, offered = header.partition(" ")
    return (
        bool(wanted)
        and scheme.lower() == "bearer"
        and hmac.compare_digest(wanted, offered.strip().encode())
    )


def bearer_guard(
    token: TokenSource,
    *,
    realm: str = "cauce",
    detail: str = "a valid bearer token is required",
) -> Callable[[Request], Awaitable[None]]:
    """A FastAPI dependency: 401 unless ``Authorization: Bearer <token>``.

    Use it as ``dependencies=[Depends(bearer_guard(settings.admin_token))]`` on a router,
    or pass a callable ``(request) -> SecretStr`` to read the token when a request comes.
    """

    async def require_bearer(request: Request) -> None:
        expected = token(request) if callable(token) else token
        if not bearer_token_matches(request.headers.get("authorization", ""), expected):
            raise HTTPException(
                status_code=401,
                detail=detail,
                headers={"WWW-Authenticate": f'Bearer realm="{realm}"'},
            )

    return require_bearer
