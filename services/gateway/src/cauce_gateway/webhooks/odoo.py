"""Odoo's webhooks: a record changed in Odoo (an automation rule whose action is "Send
Webhook Notification", Odoo 17+), for crm-sync to take what sales people changed.

Odoo signs nothing: each company's rule posts to a URL carrying an unguessable token
(``CAUCE_ODOO_WEBHOOK_TENANTS``), checked in constant time before the body is read. The
body is Odoo's: ``_model``, ``_id``, ``_action`` and the fields the rule sends (with
``write_date`` when it is among them, which lets crm-sync keep the newer side). It
becomes ``crm.odoo.record_changed``; the same body posted again is the same fact.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cauce_contracts.crm import OdooRecordChanged
from cauce_contracts.envelope import stable_event_id
from cauce_contracts.registry import subject_of
from cauce_gateway.authenticity import NotAuthentic
from cauce_gateway.delivery import correlation_id
from cauce_gateway.gateway import GatewayDep
from cauce_gateway.parsing import Publication

router = APIRouter(tags=["odoo"])

#: Odoo's datetime wire format (UTC, no offset).
_ODOO_DATETIME = "%Y-%m-%d %H:%M:%S"


class OdooWebhook(BaseModel):
    """The envelope of Odoo's webhook; every other key is a field of the record."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    model: str = Field(alias="_model", min_length=1, max_length=128)
    id: int = Field(alias="_id", gt=0)
    action: str | None = Field(default=None, alias="_action", max_length=256)

    def values(self) -> dict[str, Any]:
        return {k: v for k, v in (self.model_extra or {}).items() if not k.startswith("_")}


def _write_date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value[:19], _ODOO_DATETIME).replace(tzinfo=UTC)
    except ValueError:
        return None


@router.post(
    "/webhooks/odoo/{url_token}",
    summary="A record changed in Odoo (an automation rule's webhook; per-company URL token)",
    responses={
        401: {"description": "unknown URL token; nothing published"},
        422: {"description": "not an Odoo webhook body (problem+json)"},
        503: {"description": "the bus could not make the event durable; retry"},
    },
)
async def receive_odoo(
    request: Request,
    gateway: GatewayDep,
    url_token: Annotated[str, Path(max_length=256)],
) -> JSONResponse:
    tenant = gateway.accounts.odoo_tenant(url_token)
    if tenant is None:
        raise NotAuthentic("unknown Odoo webhook token")
    raw = await gateway.read_body(request)
    msg_id = f"odoo:{tenant}:{hashlib.sha256(raw).hexdigest()}"
    try:
        body = OdooWebhook.model_validate_json(raw)
        values = body.values()
        event = OdooRecordChanged(
            event_id=stable_event_id(msg_id),
            tenant_id=tenant,
            correlation_id=correlation_id(request.headers),
            model=body.model,
            odoo_id=body.id,
            values=values,
            write_date=_write_date(values.get("write_date")),
        )
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_input=False)) from None
    await gateway.publish([Publication(event=event, subject=subject_of(event), msg_id=msg_id)])
    return JSONResponse({"status": "accepted", "model": body.model, "id": body.id})
