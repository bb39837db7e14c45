"""What the campaign API answers: a campaign, its stats, its recipients' outcomes (JSON
pages or a CSV of all of them) and its rejected CSV rows.

CSV downloads are streamed row by row; free-text cells that a spreadsheet would run as
a formula (starting with ``=``, ``+``, ``-``, ``@``) are quoted with a leading ``'``.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from cauce_notifier.campaigns.audiences import LeadField, LeadSegment
from cauce_notifier.campaigns.progress import CampaignStats
from cauce_notifier.campaigns.store import Campaign

#: Each recipient with its send's outcome: the recipient row and its message, if any.
_RECIPIENTS = """
SELECT r.seq, r.phone, r.variables, r.state, r.note, r.released_at,
    CASE WHEN r.state <> 'released' THEN r.state
         WHEN m.status IS NULL OR m.status = 'requested' THEN 'queued'
         ELSE m.status END AS outcome,
    m.provider_message_id, m.error_code, m.error_title, m.sent_at, m.delivered_at,
    m.read_at, m.failed_at
FROM notifier.campaign_recipients r
LEFT JOIN notifier.messages m ON m.request_event_id = r.request_event_id
WHERE r.campaign_id = $1 AND r.seq > $2
  AND ($3::text IS NULL OR CASE WHEN r.state <> 'released' THEN r.state
         WHEN m.status IS NULL OR m.status = 'requested' THEN 'queued'
         WHEN $3 = 'sent' THEN CASE WHEN m.sent_at IS NOT NULL THEN 'sent' END
         WHEN $3 = 'delivered' THEN CASE WHEN m.delivered_at IS NOT NULL THEN 'delivered' END
         ELSE m.status END = $3)
ORDER BY r.seq LIMIT $4
"""
_RECIPIENT_COLUMNS = (
    "seq",
    "phone",
    "variables",
    "outcome",
    "error_code",
    "error_title",
    "note",
    "released_at",
    "sent_at",
    "delivered_at",
    "read_at",
    "failed_at",
    "provider_message_id",
)


class LeadAudience(BaseModel):
    """A segment of the tenant's leads in crm-sync, resolved when the campaign starts."""

    model_config = ConfigDict(extra="forbid")

    #: The lead field that fills ``variable_1``, ``variable_2``... in order: as many as
    #: the template takes.
    variables: list[LeadField] = []
    #: The lead's current state (``ultimo_estado``).
    state: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    #: The ManyChat campaign the lead was assigned to.
    manychat_campaign: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    #: The lead's advisor (``comercial_id``).
    advisor: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    #: Last active at or after (inclusive) / before (exclusive); with a timezone.
    active_since: AwareDatetime | None = None
    active_until: AwareDatetime | None = None

    def segment(self) -> LeadSegment:
        return LeadSegment(
            variables=tuple(self.variables),
            state=self.state,
            manychat_campaign=self.manychat_campaign,
            advisor=self.advisor,
            active_since=self.active_since,
            active_until=self.active_until,
        )

    @classmethod
    def of(cls, segment: LeadSegment) -> LeadAudience:
        return cls(
            variables=list(segment.variables),
            state=segment.state,
            manychat_campaign=segment.manychat_campaign,
            advisor=segment.advisor,
            active_since=segment.active_since,
            active_until=segment.active_until,
        )


class CampaignView(BaseModel):
    id: uuid.UUID
    name: str
    description: str | None
    status: str
    status_reason: str | None
    status_by: str | None
    channel: str
    channel_account_id: str
    template_name: str
    template_language: str
    header_media_link: str | None
    default_region: str
    scheduled_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    recipients: int
    rejected: int
    #: Who it goes to when that is a segment of leads (resolved at start); None: the
    #: uploaded CSV's recipients.
    audience: LeadAudience | None
    short_links: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignView:
        own = {"status", "audience"}
        values = {name: getattr(campaign, name) for name in cls.model_fields if name not in own}
        audience = LeadAudience.of(campaign.audience) if campaign.audience else None
        return cls(status=campaign.status.value, audience=audience, **values)


class FailureView(BaseModel):
    code: str
    title: str | None
    count: int


class CostView(BaseModel):
    currency: str
    #: What the messages Meta reported as billed cost so far (``pricing.type`` regular).
    billed: float
    billed_messages: int
    #: ``billed`` plus what the recipients still to send would cost (rate card).
    estimated_total: float


class StatsView(BaseModel):
    campaign_id: uuid.UUID
    status: str
    recipients: int
    pending: int
    queued: int
    suppressed: int
    cancelled: int
    sent: int
    delivered: int
    read: int
    failed: int
    replied: int
    #: Recipients who opened one of their short links (each counted once).
    clicked: int
    failed_by_code: list[FailureView]
    #: None when the campaign's template is not known (no category to price).
    cost: CostView | None

    @classmethod
    def of(cls, campaign: Campaign, stats: CampaignStats) -> StatsView:
        values = stats.as_dict()
        failures = [FailureView(**f) for f in values.pop("failed_by_code")]
        cost = values.pop("cost")
        return cls(
            campaign_id=campaign.id,
            status=campaign.status.value,
            failed_by_code=failures,
            cost=CostView(**cost) if cost else None,
            **values,
        )


class RecipientView(BaseModel):
    seq: int
    #: E.164 (personal data: the tenant's own customers).
    phone: str
    variables: list[str]
    #: pending, queued, sent, delivered, read, failed, suppressed or cancelled.
    outcome: str
    error_code: str | None
    error_title: str | None
    note: str | None
    released_at: datetime | None
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    failed_at: datetime | None
    provider_message_id: str | None


class RecipientPage(BaseModel):
    items: list[RecipientView]
    #: Pass as ``after`` for the next page; None on the last one.
    next_after: int | None


async def recipients_page(
    pool: asyncpg.Pool, campaign_id: uuid.UUID, status: str | None, after: int, limit: int
) -> RecipientPage:
    rows = await pool.fetch(_RECIPIENTS, campaign_id, after, status, limit + 1)
    items = [RecipientView(**_recipient(row)) for row in rows[:limit]]
    more = len(rows) > limit
    return RecipientPage(items=items, next_after=items[-1].seq if more else None)


def recipients_csv(
    pool: asyncpg.Pool, campaign_id: uuid.UUID, status: str | None
) -> StreamingResponse:
    async def lines() -> AsyncIterator[str]:
        yield _csv_line(_RECIPIENT_COLUMNS)
        after = 0
        while True:
            rows = await pool.fetch(_RECIPIENTS, campaign_id, after, status, 1000)
            for row in rows:
                item = _recipient(row)
                item["variables"] = " | ".join(item["variables"])
                yield _csv_line(_safe(item.get(column)) for column in _RECIPIENT_COLUMNS)
            if len(rows) < 1000:
                return
            after = rows[-1]["seq"]

    return _csv_response(lines(), f"campaign-{campaign_id}-recipients.csv")


def rejections_csv(pool: asyncpg.Pool, campaign_id: uuid.UUID) -> StreamingResponse:
    async def lines() -> AsyncIterator[str]:
        yield _csv_line(("line", "reason", "row"))
        after = 0
        while True:
            rows = await pool.fetch(
                "SELECT line, reason, cells FROM notifier.campaign_rejections"
                " WHERE campaign_id = $1 AND line > $2 ORDER BY line LIMIT 1000",
                campaign_id,
                after,
            )
            for row in rows:
                cells = ",".join(json.loads(row["cells"]))
                yield _csv_line((row["line"], _safe(row["reason"]), _safe(cells)))
            if len(rows) < 1000:
                return
            after = rows[-1]["line"]

    return _csv_response(lines(), f"campaign-{campaign_id}-rejections.csv")


def _recipient(row: asyncpg.Record) -> dict[str, Any]:
    item = dict(row)
    item["variables"] = json.loads(item["variables"])
    item.pop("state")
    return item


def _safe(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and not value[1:].isdigit():
        return "'" + value
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _csv_line(cells: Any) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(["" if cell is None else cell for cell in cells])
    return out.getvalue()


def _csv_response(lines: AsyncIterator[str], filename: str) -> StreamingResponse:
    return StreamingResponse(
        lines,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
