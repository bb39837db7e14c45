"""``/api/roles``: the company's roles (builtin ones read-only)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response

from cauce_contracts.identity import Permission
from cauce_identity.api.scope import CompanyDep, within_own_permissions
from cauce_identity.api.views import RoleView, RoleWrite
from cauce_identity.bootstrap import IdentityDep
from cauce_identity.store import RoleInUse, RoleNameTaken
from cauce_runtime.identity import Caller, require

router = APIRouter(prefix="/api/roles", tags=["roles"])

Reader = Annotated[Caller, Depends(require(Permission.USERS_READ))]
Manager = Annotated[Caller, Depends(require(Permission.ROLES_MANAGE))]


@router.get("", response_model=list[RoleView])
async def list_roles(_: Reader, company: CompanyDep, identity: IdentityDep) -> list[RoleView]:
    return [RoleView.of(r) for r in await identity.roles.list(company)]


@router.get("/permissions", response_model=list[Permission])
async def list_permissions(_: Reader) -> list[Permission]:
    """Every permission a role may grant."""
    return list(Permission)


@router.post("", response_model=RoleView, status_code=201)
async def create_role(
    body: RoleWrite, caller: Manager, company: CompanyDep, identity: IdentityDep
) -> RoleView:
    within_own_permissions(caller, set(body.permissions))
    try:
        role = await identity.roles.create(company, body.name, frozenset(body.permissions))
    except RoleNameTaken as exc:
        raise HTTPException(409, f"the company already has a role named {body.name}") from exc
    return RoleView.of(role)


@router.put("/{role_id}", response_model=RoleView)
async def update_role(
    role_id: uuid.UUID,
    body: RoleWrite,
    caller: Manager,
    company: CompanyDep,
    identity: IdentityDep,
) -> RoleView:
    """Rename or change a custom role; its holders get the new permissions with their
    next access token (at most one token lifetime)."""
    existing = await identity.roles.get(company, role_id)
    if existing is None:
        raise HTTPException(404, "no such role")
    if existing.builtin:
        raise HTTPException(409, "builtin roles cannot be changed")
    within_own_permissions(caller, set(body.permissions))
    try:
        role = await identity.roles.update(company, role_id, body.name, frozenset(body.permissions))
    except RoleNameTaken as exc:
        raise HTTPException(409, f"the company already has a role named {body.name}") from exc
    if role is None:
        raise HTTPException(404, "no such role")
    return RoleView.of(role)


@router.delete("/{role_id}", status_code=204)
async def delete_role(
    role_id: uuid.UUID, _: Manager, company: CompanyDep, identity: IdentityDep
) -> Response:
    existing = await identity.roles.get(company, role_id)
    if existing is None:
        raise HTTPException(404, "no such role")
    if existing.builtin:
        raise HTTPException(409, "builtin roles cannot be deleted")
    try:
        await identity.roles.delete(company, role_id)
    except RoleInUse as exc:
        raise HTTPException(409, "users still hold this role") from exc
    return Response(status_code=204)
