"""Which company a request acts for: the caller's own, from the verified token; a
platform admin may name another one explicitly (``?company_id=``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Query

from cauce_runtime.identity import Caller, CallerDep, company_for


async def acting_company(
    caller: CallerDep,
    company_id: Annotated[
        str | None, Query(description="another company (platform admins only)")
    ] = None,
) -> str:
    return company_for(caller, company_id)


#: The company a route acts for.
CompanyDep = Annotated[str, Depends(acting_company)]


def within_own_permissions(caller: Caller, wanted: frozenset[str] | set[str]) -> None:
    """403 when a caller would grant permissions it does not hold itself (no
    escalation through a role or an API key); platform admins may grant any."""
    missing = set(wanted) - set(caller.permissions)
    if missing and not caller.platform_admin:
        raise HTTPException(403, f"cannot grant permissions you do not hold: {sorted(missing)}")
