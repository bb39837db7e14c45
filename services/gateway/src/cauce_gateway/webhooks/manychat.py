"""ManyChat webhooks: contacts and campaign assignments, authenticated by ``X-API-KEY``.

The request bodies are ManyChat's (field names from the flows already in production);
they become ``crm.*`` events. Fields
ManyChat flows add beyond these are ignored rather than refused, so a flow designer
adding a custom field cannot break lead capture. ``datetime_actual`` may come without
an offset, or as a bare date: it is then read in ``CAUCE_MANYCHAT_TIMEZONE``.
The answer is 202 with the shape ManyChat integrations already expect.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cauce_contracts.crm import CampaignAssigned, ContactUpserted
from cauce_contracts.envelope import Event, stable_event_id
from cauce_contracts.registry import subject_of
from cauce_gateway.authenticity import NotAuthentic
from cauce_gateway.delivery import correlation_id
from cauce_gateway.gateway import Gateway, GatewayDep
from cauce_gateway.parsing import Publication

router = APIRouter(tags=["manychat"])


class _ManyChatBody(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    manychat_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    datetime_actual: datetime | date
    ultimo_estado: str | None = Field(default=None, max_length=256)

    def occurred_at(self, zone: ZoneInfo) -> datetime:
        value = self.datetime_actual
        if not isinstance(value, datetime):
            value = datetime.combine(value, time.min)
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)


class ManyChatContact(_ManyChatBody):
    """``POST /webhooks/manychat/contact``: a lead was created or updated."""

    nombre_lead: str = Field(min_length=1, max_length=256)
    id: str | None = Field(default=None, max_length=256)
    first_name: str | None = Field(default=None, max_length=256)
    last_name: str | None = Field(default=None, max_length=256)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)


class ManyChatCampaignAssignment(_ManyChatBody):
    """``POST /webhooks/manychat/campaign-assignment``: a lead got a campaign and agent."""

    campaign_id: str = Field(min_length=1, max_length=256)
    comercial_id: str = Field(min_length=1, max_length=256)
    ultimo_estado: str = Field(min_length=1, max_length=256)
    tipo_asignacion: str = Field(min_length=1, max_length=256)


B = TypeVar("B", bound=_ManyChatBody)


async def manychat_tenant(
    gateway: GatewayDep,
    x_api_key: Annotated[str | None, Header(alias="X-API-KEY")] = None,
) -> str:
    """The tenant owning the API key; checked before the body is parsed."""
    tenant = gateway.accounts.manychat_tenant(x_api_key)
    if tenant is None:
        raise NotAuthentic("missing or unknown X-API-KEY")
    return tenant


async def _accept(
    request: Request,
    gateway: Gateway,
    tenant: str,
    body_model: type[B],
    event_model: type[Event],
    event_fields: Callable[[B, ZoneInfo], dict[str, Any]],
) -> tuple[B, Publication]:
    """Validate the body, build the event and make it durable.

    A body (or a value inside it) that the contract refuses is a 422 problem: ManyChat's
    flow designer must fix it, retrying the same body would not help.
    """
    raw = await gateway.read_body(request)
    # ManyChat sends no delivery id: the same body posted again is the same fact.
    msg_id = f"manychat:{event_model.EVENT_TYPE}:{hashlib.sha256(raw).hexdigest()}"
    try:
        body = body_model.model_validate_json(raw)
        event = event_model(
            event_id=stable_event_id(msg_id),
            tenant_id=tenant,
            correlation_id=correlation_id(request.headers),
            **event_fields(body, ZoneInfo(gateway.settings.manychat_timezone)),
        )
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_input=False)) from None
    publication = Publication(event=event, subject=subject_of(event), msg_id=msg_id)
    await gateway.publish([publication])
    return body, publication


def _contact_fields(body: ManyChatContact, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "occurred_at": body.occurred_at(zone),
        "manychat_id": body.manychat_id,
        "nombre_lead": body.nombre_lead,
        "datetime_actual": body.occurred_at(zone),
        "ultimo_estado": body.ultimo_estado,
        "contact_id": body.id,
        "first_name": body.first_name,
        "last_name": body.last_name,
        "phone": body.phone,
        "email": body.email,
    }


def _assignment_fields(body: ManyChatCampaignAssignment, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "occurred_at": body.occurred_at(zone),
        "manychat_id": body.manychat_id,
        "campaign_id": body.campaign_id,
        "comercial_id": body.comercial_id,
        "datetime_actual": body.occurred_at(zone),
        "ultimo_estado": body.ultimo_estado,
        "tipo_asignacion": body.tipo_asignacion,
    }


_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing or unknown X-API-KEY; nothing published"},
    422: {"description": "the body is not a valid ManyChat event (problem+json)"},
    503: {"description": "the bus could not make the event durable; retry"},
}


@router.post(
    "/webhooks/manychat/contact", status_code=202, summary="A ManyChat lead", responses=_RESPONSES
)
async def receive_contact(
    request: Request,
    tenant: Annotated[str, Depends(manychat_tenant)],
    gateway: GatewayDep,
) -> JSONResponse:
    body, publication = await _accept(
        request, gateway, tenant, ManyChatContact, ContactUpserted, _contact_fields
    )
    return JSONResponse(
        {
            "status": "accepted",
            "message": "Webhook received and event queued",
            "manychat_id": body.manychat_id,
            "queue": publication.subject,
        },
        status_code=202,
    )


@router.post(
    "/webhooks/manychat/campaign-assignment",
    status_code=202,
    summary="A ManyChat lead assigned to a campaign",
    responses=_RESPONSES,
)
async def receive_campaign_assignment(
    request: Request,
    tenant: Annotated[str, Depends(manychat_tenant)],
    gateway: GatewayDep,
) -> JSONResponse:
    body, publication = await _accept(
        request,
        gateway,
        tenant,
        ManyChatCampaignAssignment,
        CampaignAssigned,
        _assignment_fields,
    )
    return JSONResponse(
        {
            "status": "accepted",
            "message": "Evento de campaña encolado exitosamente",
            "manychat_id": body.manychat_id,
            "campaign_id": body.campaign_id,
            "queue": publication.subject,
        },
        status_code=202,
    )
