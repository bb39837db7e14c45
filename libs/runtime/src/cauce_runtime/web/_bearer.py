"""Shared bearer secrets between services (crm-sync's lead export for the notifier).

Operator APIs take users' access tokens instead (:mod:`cauce_runtime.identity`); a
shared secret is for a service calling another's internal route. One implementation so
every service compares them the same way: in constant time, refusing everyone when the
configured token is empty (rather than letting an empty header in), and answering 401
with ``WWW-Authenticate`` (rendered as problem+json by
:func:`cauce_runtime.install_problem_handlers`).

A service's guard is a module-level ``async def`` dependency reading the expected token
from its wired bootstrap object (see :func:`cauce_runtime.wired`)::

    async def require_lead_export_token(request: Request, crm: CrmSyncDep) -> None:
        require_bearer(request, crm.settings.lead_export_token, realm="cauce-lead-exports")
"""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request
from pydantic import SecretStr


def bearer_token_matches(header: str, expected: SecretStr) -> bool:
    """True when ``header`` (an ``Authorization`` value) is ``Bearer <expected>``."""
    wanted = expected.get_secret_value().encode()
    scheme, _, offered = header.partition(" ")
    return (
        bool(wanted)
        and scheme.lower() == "bearer"
        and hmac.compare_digest(wanted, offered.strip().encode())
    )


def require_bearer(
    request: Request,
    expected: SecretStr,
    *,
    realm: str = "cauce",
    detail: str = "a valid bearer token is required",
) -> None:
    """Raise 401 (with ``WWW-Authenticate: Bearer realm=...``) unless the request carries
    ``Authorization: Bearer <expected>``; an empty ``expected`` refuses everyone."""
    if not bearer_token_matches(request.headers.get("authorization", ""), expected):
        raise HTTPException(
            status_code=401,
            detail=detail,
            headers={"WWW-Authenticate": f'Bearer realm="{realm}"'},
        )
