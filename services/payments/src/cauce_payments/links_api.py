"""Operator API over payment links: read a link request (``payments.read``), and release
an ``uncertain`` one after checking SCI by hand (``payments.manage``; see
:mod:`cauce_payments.payment_links`). The caller's access token says its company: a
path naming another company is a 404, as if the link did not exist."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel

from cauce_contracts.identity import Permission
from cauce_payments.bootstrap import PaymentsDep
from cauce_payments.store import LinkRecord
from cauce_runtime.identity import Caller, require, visible_company


class LinkView(BaseModel):
    tenant_id: str
    request_key: str
    state: str
    amount: int
    items: list[dict[str, Any]]
    sci_calls: int
    transaction_id: str | None
    url: str | None
    payment_reference: str | None
    failure_reason: str | None
    provider_code: str | None
    retryable: bool | None
    transaction_status: str | None
    provider_status: str | None
    status_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: LinkRecord) -> LinkView:
        return cls.model_validate({name: getattr(record, name) for name in cls.model_fields})


Reader = Annotated[Caller, Depends(require(Permission.PAYMENTS_READ))]
Manager = Annotated[Caller, Depends(require(Permission.PAYMENTS_MANAGE))]

router = APIRouter(prefix="/links", tags=["links"])


@router.get("/{tenant_id}/{request_key}", response_model=LinkView)
async def read_link(
    payments: PaymentsDep, caller: Reader, tenant_id: str, request_key: str
) -> LinkView:
    """A payment link request: its state, SCI transaction and payment status."""
    visible_company(caller, tenant_id, "link request")
    record = await payments.link_store.get(tenant_id, request_key)
    if record is None:
        raise HTTPException(404, f"no link request {request_key} for tenant {tenant_id}")
    return LinkView.of(record)


@router.post("/{tenant_id}/{request_key}/release", response_model=LinkView)
async def release_link(
    payments: PaymentsDep, caller: Manager, tenant_id: str, request_key: str
) -> LinkView:
    """Mark an ``uncertain`` request as failed (an operator found no transaction at
    SCI), so the same key may create one when asked again."""
    visible_company(caller, tenant_id, "link request")
    store = payments.link_store
    if not await store.release_uncertain(tenant_id, request_key):
        raise HTTPException(409, "only an uncertain link request can be released")
    record = await store.get(tenant_id, request_key)
    assert record is not None
    return LinkView.of(record)
