"""``/api/api-keys``: a company's machine clients. A key's secret is shown once; the
client exchanges id + secret for access tokens at ``POST /api/auth/token``."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response

from cauce_contracts.identity import Permission
from cauce_identity.api.scope import CompanyDep, within_own_permissions
from cauce_identity.api.views import ApiKeyCreate, ApiKeyCreated, ApiKeyView
from cauce_identity.bootstrap import IdentityDep
from cauce_identity.logins import api_key_session
from cauce_runtime import BusUnavailable
from cauce_runtime.identity import Caller, require

router = APIRouter(prefix="/api/api-keys", tags=["api keys"])

Manager = Annotated[Caller, Depends(require(Permission.API_KEYS_MANAGE))]


@router.get("", response_model=list[ApiKeyView])
async def list_keys(_: Manager, company: CompanyDep, identity: IdentityDep) -> list[ApiKeyView]:
    return [ApiKeyView.of(k) for k in await identity.api_keys.list(company)]


@router.post("", response_model=ApiKeyCreated, status_code=201)
async def create_key(
    body: ApiKeyCreate, caller: Manager, company: CompanyDep, identity: IdentityDep
) -> ApiKeyCreated:
    within_own_permissions(caller, set(body.scopes))
    created_by = uuid.UUID(caller.user_id) if caller.user_id else None
    key, secret = await identity.api_keys.create(
        company, body.name, frozenset(body.scopes), created_by
    )
    return ApiKeyCreated(**ApiKeyView.of(key).model_dump(), secret=secret)


@router.delete("/{key_id}", status_code=204)
async def revoke_key(
    key_id: uuid.UUID, _: Manager, company: CompanyDep, identity: IdentityDep
) -> Response:
    """No new tokens for the key, and the ones it has stop working everywhere (asking
    again is harmless)."""
    if not await identity.api_keys.revoke(company, key_id):
        raise HTTPException(404, "no such API key")
    try:
        await identity.revocations.revoke(api_key_session(key_id))
    except BusUnavailable as exc:
        raise HTTPException(503, "try again", headers={"Retry-After": "2"}) from exc
    return Response(status_code=204)
