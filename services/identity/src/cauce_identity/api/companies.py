"""``/api/companies``: the caller's company; platform admins list and create them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException

from cauce_contracts.identity import Permission
from cauce_identity.api.views import CompanyCreate, CompanyUpdate, CompanyView
from cauce_identity.bootstrap import IdentityDep
from cauce_identity.store import CompanyExists
from cauce_runtime.identity import (
    Caller,
    CallerDep,
    PlatformAdminDep,
    require,
    visible_company,
)

router = APIRouter(prefix="/api/companies", tags=["companies"])


@router.get("", response_model=list[CompanyView])
async def list_companies(caller: CallerDep, identity: IdentityDep) -> list[CompanyView]:
    """The caller's company; every company for a platform admin."""
    if caller.platform_admin:
        return [CompanyView.of(c) for c in await identity.companies.list()]
    company = await identity.companies.get(caller.company_id)
    return [CompanyView.of(company)] if company else []


@router.post("", response_model=CompanyView, status_code=201)
async def create_company(
    body: CompanyCreate, _: PlatformAdminDep, identity: IdentityDep
) -> CompanyView:
    """A new company with the builtin roles (admin, supervisor, agent)."""
    try:
        company = await identity.companies.create(body.id, body.name)
    except CompanyExists as exc:
        raise HTTPException(409, f"company {body.id} already exists") from exc
    identity.company_settings.changed()
    return CompanyView.of(company)


@router.get("/{company_id}", response_model=CompanyView)
async def get_company(company_id: str, caller: CallerDep, identity: IdentityDep) -> CompanyView:
    company = await identity.companies.get(_visible(caller, company_id))
    if company is None:
        raise HTTPException(404, "no such company")
    return CompanyView.of(company)


@router.put("/{company_id}", response_model=CompanyView)
async def update_company(
    company_id: str,
    body: CompanyUpdate,
    caller: Annotated[Caller, Depends(require(Permission.COMPANY_MANAGE))],
    identity: IdentityDep,
) -> CompanyView:
    """Rename the company, or change which bot answers its numbers (the conversation
    service follows the change live)."""
    company = await identity.companies.update(
        _visible(caller, company_id), name=body.name, bot=body.bot
    )
    if company is None:
        raise HTTPException(404, "no such company")
    identity.company_settings.changed()
    return CompanyView.of(company)


def _visible(caller: Caller, company_id: str) -> str:
    return visible_company(caller, company_id, "company")
