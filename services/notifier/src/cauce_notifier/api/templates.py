"""``/api/v1/templates``: the tenant's approved (and not) WhatsApp templates, synced from
its WhatsApp Business Accounts, and a test send of one to one number."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from cauce_contracts.fields import PhoneAddress
from cauce_contracts.outbound import OutboundMessageRequested
from cauce_contracts.registry import subject_of
from cauce_contracts.subjects import Channel, contact_key
from cauce_notifier.api.tenants import TemplateReader, TenantDep
from cauce_notifier.bootstrap import NotifierDep
from cauce_notifier.campaigns.catalog import StoredTemplate
from cauce_notifier.campaigns.phones import InvalidPhone, to_e164
from cauce_runtime import OutsideCallError, problem_response

router = APIRouter(
    prefix="/api/v1/templates",
    tags=["templates"],
    responses={401: {"description": "missing or wrong tenant token"}},
)


class TemplateView(BaseModel):
    name: str
    language: str
    status: str
    category: str
    quality: str | None
    status_reason: str | None
    #: Values a recipient needs (the CSV's ``variable_N`` columns), in order.
    variables: int
    header_media: str | None
    business_account_id: str
    template_id: str | None
    components: list[dict[str, Any]]
    synced_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, stored: StoredTemplate) -> TemplateView:
        t = stored.template
        return cls(
            name=t.name,
            language=t.language,
            status=t.status,
            category=t.category,
            quality=t.quality,
            status_reason=stored.status_reason,
            variables=t.variables,
            header_media=t.header_media,
            business_account_id=stored.business_account_id,
            template_id=t.template_id,
            components=[dict(c) for c in t.components],
            synced_at=stored.synced_at,
            updated_at=stored.updated_at,
        )


class SyncAnswer(BaseModel):
    #: Templates Meta listed for the tenant's WhatsApp Business Accounts.
    templates: int


class TestSendAnswer(BaseModel):
    request_id: uuid.UUID
    status: str


class TestSend(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template_name: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,512}$")]
    template_language: Annotated[str, Field(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")]
    to: Annotated[str, Field(min_length=3, max_length=40)]
    variables: list[Annotated[str, Field(min_length=1, max_length=1024)]] = []
    channel_account_id: str | None = None
    header_media_link: str | None = None


@router.get("", summary="The tenant's templates (as last synced or reported by Meta)")
async def list_templates(
    notifier: NotifierDep,
    tenant: TemplateReader,
    status: Annotated[str | None, Query(max_length=40)] = None,
) -> list[TemplateView]:
    return [
        TemplateView.of(t) for t in await notifier.campaigns.catalog.list(tenant, status=status)
    ]


@router.post("/sync", summary="Read the templates from Meta now", response_model=SyncAnswer)
async def sync_templates(notifier: NotifierDep, tenant: TenantDep) -> Response | SyncAnswer:
    try:
        listed = await notifier.campaigns.sync_templates(tenant)
    except OutsideCallError as exc:
        return problem_response(502, "Meta did not list the templates", str(exc))
    return SyncAnswer(templates=listed)


@router.get(
    "/{name}", summary="A template in each of its languages", response_model=list[TemplateView]
)
async def get_template(
    notifier: NotifierDep, tenant: TemplateReader, name: str
) -> Response | list[TemplateView]:
    found = await notifier.campaigns.catalog.list(tenant, name=name)
    if not found:
        return problem_response(404, detail="no such template for this tenant")
    return [TemplateView.of(t) for t in found]


@router.post(
    "/send",
    status_code=202,
    summary="Send a template to one number (a test)",
    response_model=TestSendAnswer,
)
async def send_test(
    notifier: NotifierDep, tenant: TenantDep, body: TestSend
) -> Response | TestSendAnswer:
    accounts = [a for a in await notifier.accounts.list(tenant) if a.channel is Channel.WHATSAPP]
    if body.channel_account_id is not None:
        accounts = [a for a in accounts if a.account_id == body.channel_account_id]
    if len(accounts) != 1:
        return problem_response(422, detail="name one of the tenant's WhatsApp numbers")
    account = accounts[0]
    stored = await notifier.campaigns.catalog.of_account(
        account, body.template_name, body.template_language
    )
    if stored is None or not stored.template.approved:
        return problem_response(409, detail="the template is unknown or not APPROVED")
    try:
        phone: PhoneAddress = to_e164(body.to, notifier.settings.campaign_default_region)
        content = stored.template.content(body.variables, header_media_link=body.header_media_link)
    except (InvalidPhone, ValueError) as exc:
        return problem_response(422, detail=str(exc))
    secret = notifier.settings.contact_key_secret.get_secret_value().encode()
    event = OutboundMessageRequested(
        event_id=uuid.uuid4(),
        tenant_id=tenant,
        correlation_id=f"template-test-{uuid.uuid4().hex[:12]}",
        channel=account.channel,
        contact_key=contact_key(phone, secret),
        channel_account_id=account.account_id,
        recipient=phone,
        content=content,
    )
    await notifier.bus.publish(event, subject_of(event))
    return TestSendAnswer(request_id=event.event_id, status="requested")
