"""``/api/users``: the company's users. Reading needs ``users.read``; creating,
changing and deleting ``users.manage``, and nobody hands out a role with permissions
they do not hold themselves."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response

from cauce_contracts.identity import Permission
from cauce_identity.api.scope import CompanyDep, within_own_permissions
from cauce_identity.api.views import UserCreate, UserUpdate, UserView
from cauce_identity.bootstrap import Identity, IdentityDep
from cauce_identity.logins import WeakPassword, check_password_policy
from cauce_identity.passwords import hash_password
from cauce_identity.store import EmailTaken, Role
from cauce_runtime import BusUnavailable
from cauce_runtime.identity import Caller, require

router = APIRouter(prefix="/api/users", tags=["users"])

Reader = Annotated[Caller, Depends(require(Permission.USERS_READ))]
Manager = Annotated[Caller, Depends(require(Permission.USERS_MANAGE))]


@router.get("", response_model=list[UserView])
async def list_users(_: Reader, company: CompanyDep, identity: IdentityDep) -> list[UserView]:
    return [UserView.of(u) for u in await identity.users.list(company)]


@router.post("", response_model=UserView, status_code=201)
async def create_user(
    body: UserCreate, caller: Manager, company: CompanyDep, identity: IdentityDep
) -> UserView:
    role = await _grantable_role(caller, company, body.role_id, identity)
    try:
        check_password_policy(body.password, identity.settings.password_min_length, body.email)
    except WeakPassword as exc:
        raise HTTPException(422, str(exc)) from exc
    try:
        user = await identity.users.create(
            company, body.email, body.full_name, await hash_password(body.password), role.id
        )
    except EmailTaken as exc:
        raise HTTPException(409, "a user with that e-mail already exists") from exc
    return UserView.of(user)


@router.get("/{user_id}", response_model=UserView)
async def get_user(
    user_id: uuid.UUID, _: Reader, company: CompanyDep, identity: IdentityDep
) -> UserView:
    user = await identity.users.get(company, user_id)
    if user is None:
        raise HTTPException(404, "no such user")
    return UserView.of(user)


@router.put("/{user_id}", response_model=UserView)
async def update_user(
    user_id: uuid.UUID,
    body: UserUpdate,
    caller: Manager,
    company: CompanyDep,
    identity: IdentityDep,
) -> UserView:
    """Change name, e-mail or role; a new ``password`` (an admin's reset) or a new role
    ends the user's sessions, so the change holds at once."""
    user = await identity.users.get(company, user_id)
    if user is None:
        raise HTTPException(404, "no such user")
    if body.role_id is not None:
        await _grantable_role(caller, company, body.role_id, identity)
    try:
        changed = await identity.users.update(
            company, user_id, full_name=body.full_name, email=body.email, role_id=body.role_id
        )
        assert changed is not None
        if body.password is not None:
            await identity.logins.set_password(changed, body.password)
        elif body.role_id is not None and body.role_id != user.role_id:
            await identity.logins.end_sessions(changed)
    except EmailTaken as exc:
        raise HTTPException(409, "a user with that e-mail already exists") from exc
    except WeakPassword as exc:
        raise HTTPException(422, str(exc)) from exc
    except BusUnavailable as exc:
        raise HTTPException(503, "try again", headers={"Retry-After": "2"}) from exc
    return UserView.of(changed)


@router.delete("/{user_id}", status_code=204)
async def delete_user(
    user_id: uuid.UUID, caller: Manager, company: CompanyDep, identity: IdentityDep
) -> Response:
    """The user can no longer log in, and their sessions end."""
    if caller.user_id == str(user_id):
        raise HTTPException(409, "you cannot delete yourself")
    user = await identity.users.get(company, user_id)
    if user is None:
        raise HTTPException(404, "no such user")
    try:
        await identity.logins.end_sessions(user)  # first: a retry after a 503 finds the user
    except BusUnavailable as exc:
        raise HTTPException(503, "try again", headers={"Retry-After": "2"}) from exc
    await identity.users.delete(company, user_id)
    return Response(status_code=204)


async def _grantable_role(
    caller: Caller, company: str, role_id: uuid.UUID, identity: Identity
) -> Role:
    role = await identity.roles.get(company, role_id)
    if role is None:
        raise HTTPException(422, "no such role in this company")
    within_own_permissions(caller, role.permissions)
    return role
