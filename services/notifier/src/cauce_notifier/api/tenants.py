"""Which tenant is calling: the campaign and template APIs take the tenant from the
bearer token, never from a parameter the caller chooses.

Each tenant has its own token (``CAUCE_TENANT_TOKENS``); a caller sees and changes only
that tenant's campaigns and templates, and another tenant's campaign is a 404 exactly
like a missing one. The companies work will put users' signed tokens on this same
dependency.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from cauce_notifier.bootstrap import NotifierDep


async def calling_tenant(request: Request, notifier: NotifierDep) -> str:
    """The tenant whose token is in ``Authorization: Bearer ...``; 401 otherwise."""
    scheme, _, offered = request.headers.get("authorization", "").partition(" ")
    given = offered.strip().encode()
    tenant: str | None = None
    if scheme.lower() == "bearer" and given:
        for entry in notifier.settings.tenant_tokens:
            expected = entry.token.get_secret_value().encode()
            # every token is compared, so the time taken says nothing about which matched
            if expected and hmac.compare_digest(expected, given):
                tenant = entry.tenant_id
    if tenant is None:
        raise HTTPException(
            status_code=401,
            detail="a valid tenant bearer token is required",
            headers={"WWW-Authenticate": 'Bearer realm="cauce-campaigns"'},
        )
    return tenant


#: The calling tenant, for route handlers.
TenantDep = Annotated[str, Depends(calling_tenant)]
