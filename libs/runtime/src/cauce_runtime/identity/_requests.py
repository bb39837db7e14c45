"""The FastAPI side: who is calling (``CallerDep``) and what they may do
(:func:`require`). Errors are problem+json: 401 without a valid token (with
``WWW-Authenticate: Bearer``), 403 without the permission."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from cauce_contracts.identity import Permission
from cauce_runtime.identity._caller import Caller, NotYourCompany
from cauce_runtime.identity._verifier import InvalidToken, TokenVerifier
from cauce_runtime.web._wiring import wiring_of


def _unauthorized(detail: str, error: str = "invalid_token") -> HTTPException:
    return HTTPException(
        status_code=401,
        detail=detail,
        headers={"WWW-Authenticate": f'Bearer realm="cauce", error="{error}"'},
    )


async def authenticated_caller(request: Request) -> Caller:
    """The caller of ``request``, from its ``Authorization: Bearer`` access token."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("a bearer access token is required", "invalid_request")
    verifier = wiring_of(request.app, TokenVerifier)
    try:
        return verifier.verify(token.strip())
    except InvalidToken as exc:
        raise _unauthorized(str(exc)) from exc


#: A route's verified caller.
CallerDep = Annotated[Caller, Depends(authenticated_caller)]

_guards: dict[Permission, Callable[[Caller], Awaitable[Caller]]] = {}


def require(permission: Permission) -> Callable[[Caller], Awaitable[Caller]]:
    """A dependency giving the caller when it holds ``permission`` (403 otherwise)."""
    guard = _guards.get(permission)
    if guard is None:

        async def guard(caller: CallerDep) -> Caller:
            if not caller.may(permission):
                raise HTTPException(status_code=403, detail=f"requires permission {permission}")
            return caller

        guard.__name__ = guard.__qualname__ = f"require_{permission.value.replace('.', '_')}"
        guard = _guards.setdefault(permission, guard)
    return guard


async def platform_admin(caller: CallerDep) -> Caller:
    """A dependency giving the caller when it is a platform admin (403 otherwise): for
    routes over every company's data (crm-sync's reconciliation, creating companies)."""
    if not caller.platform_admin:
        raise HTTPException(status_code=403, detail="platform admins only")
    return caller


#: A route's caller, a platform admin.
PlatformAdminDep = Annotated[Caller, Depends(platform_admin)]


def company_for(caller: Caller, requested: str | None) -> str:
    """The company a request acts for (see :meth:`Caller.company_for`), or 403."""
    try:
        return caller.company_for(requested)
    except NotYourCompany as exc:
        raise HTTPException(
            status_code=403, detail="only a platform admin may act for another company"
        ) from exc


def visible_company(caller: Caller, company_id: str, what: str = "object") -> str:
    """``company_id`` named in a path, when the caller may see it: their own, or any for a
    platform admin. Anyone else gets 404, as if it did not exist (never a 403 that
    confirms another company's object is there)."""
    if not caller.sees(company_id):
        raise HTTPException(status_code=404, detail=f"no such {what}")
    return company_id
