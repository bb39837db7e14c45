"""``/api/v1/campaigns``: the seed's campaign API (its clients keep working).

Create a campaign from an approved template, upload its recipients as CSV (or name a
segment of the tenant's leads in crm-sync, resolved at start), start it
(now, or at ``scheduled_at``), pause, resume or cancel it, watch its stats, list every
recipient's outcome (``?format=csv`` for all of them), and retry the ones that failed
for a reason worth retrying. A change the campaign's state does not allow is a 409
problem+json naming the state; another tenant's campaign is a 404. The tenant comes
from the bearer token (:mod:`cauce_notifier.api.tenants`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Query, Response, UploadFile
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from cauce_contracts.fields import WebUrl
from cauce_contracts.subjects import Channel
from cauce_notifier.api.campaign_views import (
    CampaignView,
    LeadAudience,
    RecipientPage,
    StatsView,
    recipients_csv,
    recipients_page,
    rejections_csv,
)
from cauce_notifier.api.tenants import TenantDep, TenantReader
from cauce_notifier.bootstrap import Notifier, NotifierDep
from cauce_notifier.campaigns.audiences import AudienceUnavailable, LeadSegment
from cauce_notifier.campaigns.lifecycle import CampaignStatus, TransitionRefused, check_editable
from cauce_notifier.campaigns.phones import is_region
from cauce_notifier.campaigns.progress import CampaignStats, campaign_stats
from cauce_notifier.campaigns.recipients_csv import CsvRefused
from cauce_notifier.campaigns.starting import NothingToSend
from cauce_notifier.campaigns.store import Campaign, CampaignDraft, CampaignNotFound
from cauce_runtime import InvalidCursor, problem_response

router = APIRouter(
    prefix="/api/v1/campaigns",
    tags=["campaigns"],
    responses={
        401: {"description": "missing or wrong tenant token"},
        404: {"description": "no such campaign for this tenant"},
        409: {"description": "the campaign's state does not allow it"},
    },
)


class CampaignIn(BaseModel):
    """A campaign as an operator describes it."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=2000)] | None = None
    template_name: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,512}$")]
    template_language: Annotated[str, Field(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")]
    #: The sending number (Meta phone_number_id); the tenant's only WhatsApp number
    #: when omitted.
    channel_account_id: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    #: When to start by itself (with a timezone); absent: started by ``/start``.
    scheduled_at: AwareDatetime | None = None
    #: Region of numbers without a country code (``CO``, ``MX``...).
    default_region: str | None = None
    #: The image/video/document of a template with a media header.
    header_media_link: WebUrl | None = None
    #: Send the variables that are URLs as short links counting each recipient's click
    #: (needs CAUCE_SHORT_LINK_BASE_URL).
    short_links: bool = False

    @field_validator("default_region")
    @classmethod
    def _known_region(cls, value: str | None) -> str | None:
        if value is not None and not is_region(value):
            raise ValueError("not a region libphonenumber knows (ISO 3166 alpha-2)")
        return value.upper() if value else value


class LoadAnswer(BaseModel):
    accepted: int
    rejected: int
    #: The first rejected rows; every one is in ``GET .../rejections?format=csv``.
    rejections: list[dict[str, Any]]


class CampaignPage(BaseModel):
    items: list[CampaignView]
    #: Pass as ``cursor`` for the next page; None on the last one.
    next_cursor: str | None


class RetryAnswer(BaseModel):
    requeued: int
    #: Failed for a reason not worth retrying (or not yet: a 131049 within 24 h).
    left: int


# --- list, create, read, edit, delete ---------------------------------------------------


@router.get("", summary="The tenant's campaigns, newest first", response_model=CampaignPage)
async def list_campaigns(
    notifier: NotifierDep,
    tenant: TenantReader,
    status: CampaignStatus | None = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response | CampaignPage:
    try:
        items, next_cursor = await notifier.campaigns.store.list(
            tenant, status=status, cursor=cursor, limit=limit
        )
    except InvalidCursor as exc:
        return problem_response(422, detail=f"invalid cursor: {exc}")
    return CampaignPage(items=[CampaignView.of(c) for c in items], next_cursor=next_cursor)


@router.post(
    "",
    status_code=201,
    summary="Create a campaign (DRAFT, or SCHEDULED)",
    response_model=CampaignView,
)
async def create_campaign(
    notifier: NotifierDep, tenant: TenantDep, body: CampaignIn
) -> Response | CampaignView:
    draft = await _draft(notifier, tenant, body)
    if isinstance(draft, Response):
        return draft
    return CampaignView.of(await notifier.campaigns.store.create(tenant, draft))


@router.get("/{campaign_id}", summary="One campaign", response_model=CampaignView)
async def get_campaign(
    notifier: NotifierDep, tenant: TenantReader, campaign_id: uuid.UUID
) -> Response | CampaignView:
    try:
        return CampaignView.of(await notifier.campaigns.store.get(tenant, campaign_id))
    except CampaignNotFound:
        return _not_found()


@router.put(
    "/{campaign_id}", summary="Edit a campaign that has not started", response_model=CampaignView
)
async def edit_campaign(
    notifier: NotifierDep, tenant: TenantDep, campaign_id: uuid.UUID, body: CampaignIn
) -> Response | CampaignView:
    draft = await _draft(notifier, tenant, body)
    if isinstance(draft, Response):
        return draft
    try:
        return CampaignView.of(await notifier.campaigns.store.edit(tenant, campaign_id, draft))
    except CampaignNotFound:
        return _not_found()
    except TransitionRefused as exc:
        return _refused(exc)


@router.delete(
    "/{campaign_id}", status_code=204, summary="Delete a campaign not running", response_model=None
)
async def delete_campaign(
    notifier: NotifierDep, tenant: TenantDep, campaign_id: uuid.UUID
) -> Response:
    try:
        await notifier.campaigns.store.delete(tenant, campaign_id)
    except CampaignNotFound:
        return _not_found()
    except TransitionRefused as exc:
        return _refused(exc)
    return Response(status_code=204)


# --- state changes ----------------------------------------------------------------------


@router.post("/{campaign_id}/start", summary="Start sending now", response_model=CampaignView)
async def start_campaign(
    notifier: NotifierDep, tenant: TenantDep, campaign_id: uuid.UUID
) -> Response | CampaignView:
    try:
        campaign = await notifier.campaigns.store.get(tenant, campaign_id)
    except CampaignNotFound:
        return _not_found()
    problem = await _unstartable(notifier, campaign)
    if problem is not None:
        return problem_response(409, "Campaign cannot be started", problem)
    try:
        started = await notifier.campaigns.starter.start(tenant, campaign_id)
    except CampaignNotFound:
        return _not_found()
    except TransitionRefused as exc:
        return _refused(exc)
    except AudienceUnavailable as exc:
        return problem_response(503, "The leads could not be read", exc.reason)
    except NothingToSend as exc:
        return problem_response(409, "Campaign cannot be started", exc.reason)
    return CampaignView.of(started)


@router.post(
    "/{campaign_id}/pause",
    summary="Stop sending (within a second); resumable",
    response_model=CampaignView,
)
async def pause_campaign(
    notifier: NotifierDep, tenant: TenantDep, campaign_id: uuid.UUID
) -> Response | CampaignView:
    return await _change(notifier, tenant, campaign_id, "pause")


@router.post(
    "/{campaign_id}/resume", summary="Continue where it paused", response_model=CampaignView
)
async def resume_campaign(
    notifier: NotifierDep, tenant: TenantDep, campaign_id: uuid.UUID
) -> Response | CampaignView:
    return await _change(notifier, tenant, campaign_id, "resume")


@router.post(
    "/{campaign_id}/cancel",
    summary="Stop for good; the rest stay unsent",
    response_model=CampaignView,
)
async def cancel_campaign(
    notifier: NotifierDep, tenant: TenantDep, campaign_id: uuid.UUID
) -> Response | CampaignView:
    return await _change(notifier, tenant, campaign_id, "cancel")


# --- recipients -------------------------------------------------------------------------


@router.put(
    "/{campaign_id}/audience",
    summary="Send to a segment of the tenant's leads (resolved at start) instead of a CSV",
    response_model=CampaignView,
)
async def set_audience(
    notifier: NotifierDep, tenant: TenantDep, campaign_id: uuid.UUID, body: LeadAudience
) -> Response | CampaignView:
    """The leads crm-sync holds that match the filters, each lead's fields filling the
    template's variables, become the recipients when the campaign starts; uploaded
    recipients are dropped (uploading a CSV afterwards drops the segment)."""
    if not notifier.settings.crm_sync_url or notifier.settings.crm_sync_lead_export_token is None:
        detail = "set CAUCE_CRM_SYNC_URL and CAUCE_CRM_SYNC_LEAD_EXPORT_TOKEN on the notifier"
        return problem_response(501, "Lead audiences are not configured", detail)
    try:
        campaign = await notifier.campaigns.store.get(tenant, campaign_id)
    except CampaignNotFound:
        return _not_found()
    template = await _template_of(notifier, campaign)
    if isinstance(template, Response):
        return template
    if len(body.variables) != template.variables:
        detail = (
            f"the template takes {template.variables} variable(s): name as many lead "
            f"fields in variables (got {len(body.variables)})"
        )
        return problem_response(422, "Variables do not fit the template", detail)
    return await _set_audience(notifier, tenant, campaign_id, body.segment())


@router.delete(
    "/{campaign_id}/audience",
    summary="Drop the lead segment (upload a CSV instead)",
    response_model=CampaignView,
)
async def drop_audience(
    notifier: NotifierDep, tenant: TenantDep, campaign_id: uuid.UUID
) -> Response | CampaignView:
    return await _set_audience(notifier, tenant, campaign_id, None)


async def _set_audience(
    notifier: Notifier, tenant: str, campaign_id: uuid.UUID, segment: LeadSegment | None
) -> Response | CampaignView:
    try:
        campaign = await notifier.campaigns.store.set_audience(tenant, campaign_id, segment)
    except CampaignNotFound:
        return _not_found()
    except TransitionRefused as exc:
        return _refused(exc)
    return CampaignView.of(campaign)


@router.post(
    "/{campaign_id}/upload-recipients",
    summary="Replace the recipients with a CSV (Recipient-Phone-Number,variable_1,...)",
    response_model=LoadAnswer,
)
async def upload_recipients(
    notifier: NotifierDep,
    tenant: TenantDep,
    campaign_id: uuid.UUID,
    file: Annotated[UploadFile, File(description="the seed's CSV, UTF-8")],
) -> Response | LoadAnswer:
    try:
        campaign = await notifier.campaigns.store.get(tenant, campaign_id)
        check_editable(campaign.status, "upload recipients to")
    except CampaignNotFound:
        return _not_found()
    except TransitionRefused as exc:
        return _refused(exc)
    if file.size is not None and file.size > notifier.settings.campaign_csv_max_bytes:
        limit = notifier.settings.campaign_csv_max_bytes
        return problem_response(413, detail=f"the file is over {limit} bytes")
    template = await _template_of(notifier, campaign)
    if isinstance(template, Response):
        return template
    try:
        report = await notifier.campaigns.recipients.load_csv(
            campaign, file.file, variables=template.variables
        )
    except CsvRefused as exc:
        return problem_response(422, "The file cannot be used", exc.reason)
    except TransitionRefused as exc:  # started while the file was read
        return _refused(exc)
    return LoadAnswer(
        accepted=report.accepted,
        rejected=report.rejected,
        rejections=[{"line": r.line, "reason": r.reason} for r in report.rejections],
    )


@router.get(
    "/{campaign_id}/recipients",
    summary="Each recipient's outcome (paged, or CSV)",
    response_model=RecipientPage,
)
async def list_recipients(
    notifier: NotifierDep,
    tenant: TenantReader,
    campaign_id: uuid.UUID,
    status: Literal[
        "pending", "queued", "sent", "delivered", "read", "failed", "suppressed", "cancelled"
    ]
    | None = None,
    format: Literal["json", "csv"] = "json",
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response | RecipientPage:
    try:
        await notifier.campaigns.store.get(tenant, campaign_id)
    except CampaignNotFound:
        return _not_found()
    if format == "csv":
        return recipients_csv(notifier.pool, campaign_id, status)
    return await recipients_page(notifier.pool, campaign_id, status, after, limit)


@router.get(
    "/{campaign_id}/rejections",
    summary="The CSV rows that were rejected, and why",
    response_model=None,
)
async def list_rejections(
    notifier: NotifierDep, tenant: TenantReader, campaign_id: uuid.UUID
) -> Response:
    try:
        await notifier.campaigns.store.get(tenant, campaign_id)
    except CampaignNotFound:
        return _not_found()
    return rejections_csv(notifier.pool, campaign_id)


@router.post(
    "/{campaign_id}/retry-failed",
    summary="Send again to recipients whose send failed for a retryable reason",
    response_model=RetryAnswer,
)
async def retry_failed(
    notifier: NotifierDep, tenant: TenantDep, campaign_id: uuid.UUID
) -> Response | RetryAnswer:
    """Failures whose retries ran out (429, 5xx, timeouts), the pair rate (131056) and
    the per-user marketing cap (131049, only 24 h after it) are sent again as a new
    attempt; a finished campaign runs again for them. An undeliverable number or a
    refused template is left as it failed."""
    store = notifier.campaigns.store
    try:
        campaign = await store.get(tenant, campaign_id)
    except CampaignNotFound:
        return _not_found()
    if campaign.status in (
        CampaignStatus.DRAFT,
        CampaignStatus.SCHEDULED,
        CampaignStatus.CANCELLED,
    ):
        reason = f"a {campaign.status.value} campaign has no failed sends to retry"
        return _refused(TransitionRefused(reason))
    requeued, left = await notifier.campaigns.recipients.retry_failed(campaign_id)
    if requeued:
        try:
            await store.change_status(tenant, campaign_id, "reopen", by="operator")
        except TransitionRefused as exc:
            return _refused(exc)
    return RetryAnswer(requeued=requeued, left=left)


@router.get(
    "/{campaign_id}/stats",
    summary="Counts from the messages' status timeline",
    response_model=StatsView,
)
async def get_stats(
    notifier: NotifierDep, tenant: TenantReader, campaign_id: uuid.UUID
) -> Response | StatsView:
    try:
        campaign = await notifier.campaigns.store.get(tenant, campaign_id)
    except CampaignNotFound:
        return _not_found()
    return StatsView.of(campaign, await stats_of(notifier, campaign))


# --- helpers ----------------------------------------------------------------------------


async def stats_of(notifier: Notifier, campaign: Campaign) -> CampaignStats:
    """The campaign's counts, with the cost when its template (so its category) is known."""
    template = await _template_of(notifier, campaign)
    category = None if isinstance(template, Response) else template.category
    return await campaign_stats(
        notifier.pool, campaign.id, prices=notifier.settings.rate_card, category=category
    )


async def _change(
    notifier: Notifier,
    tenant: str,
    campaign_id: uuid.UUID,
    action: Literal["start", "pause", "resume", "cancel"],
) -> Response | CampaignView:
    try:
        campaign = await notifier.campaigns.store.change_status(tenant, campaign_id, action)
    except CampaignNotFound:
        return _not_found()
    except TransitionRefused as exc:
        return _refused(exc)
    return CampaignView.of(campaign)


async def _draft(notifier: Notifier, tenant: str, body: CampaignIn) -> CampaignDraft | Response:
    accounts = [a for a in await notifier.accounts.list(tenant) if a.channel is Channel.WHATSAPP]
    if body.channel_account_id is not None:
        accounts = [a for a in accounts if a.account_id == body.channel_account_id]
    if len(accounts) != 1:
        detail = (
            "no WhatsApp Cloud API number of this tenant has that account id"
            if body.channel_account_id
            else "name the sending number (channel_account_id): the tenant has "
            f"{len(accounts)} WhatsApp numbers"
        )
        return problem_response(422, "No sending number", detail)
    if body.scheduled_at is not None and body.scheduled_at <= datetime.now(
        body.scheduled_at.tzinfo
    ):
        return problem_response(422, detail="scheduled_at is in the past")
    if body.short_links and notifier.links is None:
        detail = "short links need CAUCE_SHORT_LINK_BASE_URL on the notifier"
        return problem_response(422, "Short links are not configured", detail)
    return CampaignDraft(
        name=body.name,
        description=body.description,
        channel=Channel.WHATSAPP.value,
        channel_account_id=accounts[0].account_id,
        template_name=body.template_name,
        template_language=body.template_language,
        default_region=body.default_region or notifier.settings.campaign_default_region,
        header_media_link=body.header_media_link,
        scheduled_at=body.scheduled_at,
        short_links=body.short_links,
    )


async def _template_of(notifier: Notifier, campaign: Campaign) -> Any:
    account = await notifier.accounts.find(campaign.channel, campaign.channel_account_id)
    stored = (
        None
        if account is None
        else await notifier.campaigns.catalog.of_account(
            account, campaign.template_name, campaign.template_language
        )
    )
    if stored is None:
        return problem_response(
            409,
            "Template not found",
            f"{campaign.template_name} ({campaign.template_language}) is not among the "
            "sending number's templates: sync them (POST /api/v1/templates/sync) or fix "
            "the name and language",
        )
    return stored.template


async def _unstartable(notifier: Notifier, campaign: Campaign) -> str | None:
    if campaign.recipients == 0 and campaign.audience is None:
        return "the campaign has no recipients: upload a CSV or set a lead audience first"
    template = await _template_of(notifier, campaign)
    if isinstance(template, Response):
        return f"template {campaign.template_name} ({campaign.template_language}) is unknown"
    if campaign.audience and len(campaign.audience.variables) != template.variables:
        return (
            f"template {template.name} takes {template.variables} variable(s); the lead "
            f"audience names {len(campaign.audience.variables)}"
        )
    if not template.approved:
        return f"template {template.name} ({template.language}) is {template.status}, not APPROVED"
    if template.header_media and campaign.header_media_link is None:
        return (
            f"template {template.name} has a {template.header_media} header: set header_media_link"
        )
    return None


def _not_found() -> Response:
    return problem_response(404, detail="no such campaign")


def _refused(exc: TransitionRefused) -> Response:
    return problem_response(409, "Not allowed in this state", exc.reason)
