"""Campaigns as rows (``notifier.campaigns``) and the changes of their state.

Every state change happens in one transaction that locks the campaign row, checks the
change against :mod:`~cauce_notifier.campaigns.lifecycle`, writes it and appends it to
the campaign's event feed (what the progress stream replays). Two replicas (or two
operators) changing one campaign at once take turns on the row lock; the second sees
the first's state, so a pause and a resume never interleave into nonsense.

A campaign belongs to one tenant: every read and write here names the tenant, and a
campaign of another tenant is :class:`CampaignNotFound`, exactly like a missing one.
"""

from __future__ import annotations

import builtins
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Literal

import asyncpg

from cauce_notifier.campaigns.audiences import LeadSegment
from cauce_notifier.campaigns.lifecycle import (
    Action,
    CampaignStatus,
    check_deletable,
    check_editable,
    next_status,
)
from cauce_notifier.metrics import CAMPAIGN_STATE_CHANGES
from cauce_runtime import CauceError, decode_cursor, encode_cursor, inject_headers

RUNNING = CampaignStatus.RUNNING

StatusBy = Literal["operator", "platform", "schedule"]
_LIST = "campaigns"


class CampaignNotFound(CauceError):
    """No such campaign for this tenant (or it belongs to another one)."""


@dataclass(frozen=True)
class Campaign:
    id: uuid.UUID
    tenant_id: str
    name: str
    description: str | None
    channel: str
    channel_account_id: str
    template_name: str
    template_language: str
    header_media_link: str | None
    default_region: str
    status: CampaignStatus
    status_reason: str | None
    status_by: str | None
    scheduled_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    recipients: int
    rejected: int
    created_at: datetime
    updated_at: datetime
    #: ``traceparent`` of the request that started or last resumed it.
    trace_context: str | None = None
    #: The leads it goes to, resolved at start; None: its recipients are a CSV's.
    audience: LeadSegment | None = None
    #: Its URL variables go out as short links that count clicks.
    short_links: bool = False

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Campaign:
        values = {f.name: row[f.name] for f in fields(cls)}
        values["status"] = CampaignStatus(values["status"])
        if values["audience"] is not None:
            values["audience"] = LeadSegment.from_json(json.loads(values["audience"]))
        return cls(**values)


@dataclass(frozen=True)
class CampaignDraft:
    """What an operator gives to create or edit a campaign."""

    name: str
    channel: str
    channel_account_id: str
    template_name: str
    template_language: str
    default_region: str
    description: str | None = None
    header_media_link: str | None = None
    scheduled_at: datetime | None = None
    short_links: bool = False


class CampaignStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    # --- reading ----------------------------------------------------------------------

    async def get(self, tenant_id: str, campaign_id: uuid.UUID) -> Campaign:
        row = await self._pool.fetchrow(
            "SELECT * FROM notifier.campaigns WHERE id = $1 AND tenant_id = $2",
            campaign_id,
            tenant_id,
        )
        if row is None:
            raise CampaignNotFound(str(campaign_id))
        return Campaign.from_row(row)

    async def list(
        self,
        tenant_id: str,
        *,
        status: CampaignStatus | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> tuple[builtins.list[Campaign], str | None]:
        """A tenant's campaigns, newest first; :class:`~cauce_runtime.InvalidCursor` for
        a cursor this list did not issue."""
        after_at, after_id = (
            decode_cursor(_LIST, cursor, datetime, uuid.UUID) if cursor else (None, None)
        )
        rows = await self._pool.fetch(
            "SELECT * FROM notifier.campaigns WHERE tenant_id = $1"
            " AND ($2::text IS NULL OR status = $2)"
            " AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4::uuid))"
            " ORDER BY created_at DESC, id DESC LIMIT $5",
            tenant_id,
            status.value if status else None,
            after_at,
            after_id,
            limit + 1,
        )
        items = [Campaign.from_row(row) for row in rows[:limit]]
        more = len(rows) > limit
        next_cursor = encode_cursor(_LIST, items[-1].created_at, items[-1].id) if more else None
        return items, next_cursor

    async def in_status(self, *statuses: CampaignStatus) -> builtins.list[Campaign]:
        """Every tenant's campaigns in one of ``statuses`` (the dispatcher's view)."""
        rows = await self._pool.fetch(
            "SELECT * FROM notifier.campaigns WHERE status = ANY($1::text[]) ORDER BY created_at",
            [status.value for status in statuses],
        )
        return [Campaign.from_row(row) for row in rows]

    # --- writing ----------------------------------------------------------------------

    async def create(self, tenant_id: str, draft: CampaignDraft) -> Campaign:
        status = CampaignStatus.SCHEDULED if draft.scheduled_at else CampaignStatus.DRAFT
        async with self._pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(
                "INSERT INTO notifier.campaigns (id, tenant_id, name, description, channel,"
                " channel_account_id, template_name, template_language, header_media_link,"
                " default_region, status, scheduled_at, short_links)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING *",
                uuid.uuid4(),
                tenant_id,
                draft.name,
                draft.description,
                draft.channel,
                draft.channel_account_id,
                draft.template_name,
                draft.template_language,
                draft.header_media_link,
                draft.default_region,
                status.value,
                draft.scheduled_at,
                draft.short_links,
            )
            campaign = Campaign.from_row(row)
            await append_event(connection, campaign, "created", _state(campaign))
        return campaign

    async def edit(self, tenant_id: str, campaign_id: uuid.UUID, draft: CampaignDraft) -> Campaign:
        """Replace what an operator set; only before the campaign runs."""
        async with self._pool.acquire() as connection, connection.transaction():
            current = await self._locked(connection, tenant_id, campaign_id)
            check_editable(current.status)
            status = CampaignStatus.SCHEDULED if draft.scheduled_at else CampaignStatus.DRAFT
            row = await connection.fetchrow(
                "UPDATE notifier.campaigns SET name = $2, description = $3, channel = $4,"
                " channel_account_id = $5, template_name = $6, template_language = $7,"
                " header_media_link = $8, default_region = $9, scheduled_at = $10,"
                " status = $11, short_links = $12, updated_at = now() WHERE id = $1 RETURNING *",
                campaign_id,
                draft.name,
                draft.description,
                draft.channel,
                draft.channel_account_id,
                draft.template_name,
                draft.template_language,
                draft.header_media_link,
                draft.default_region,
                draft.scheduled_at,
                status.value,
                draft.short_links,
            )
            campaign = Campaign.from_row(row)
            await append_event(connection, campaign, "edited", _state(campaign))
        return campaign

    async def set_audience(
        self, tenant_id: str, campaign_id: uuid.UUID, segment: LeadSegment | None
    ) -> Campaign:
        """Make ``segment`` of the tenant's leads the campaign's audience (its uploaded
        recipients are dropped) or, with None, go back to uploading a CSV."""
        async with self._pool.acquire() as connection, connection.transaction():
            current = await self._locked(connection, tenant_id, campaign_id)
            check_editable(current.status, "change the audience of")
            await connection.execute(
                "DELETE FROM notifier.campaign_recipients WHERE campaign_id = $1", campaign_id
            )
            await connection.execute(
                "DELETE FROM notifier.campaign_rejections WHERE campaign_id = $1", campaign_id
            )
            row = await connection.fetchrow(
                "UPDATE notifier.campaigns SET audience = $2::jsonb, recipients = 0,"
                " rejected = 0, updated_at = now() WHERE id = $1 RETURNING *",
                campaign_id,
                json.dumps(segment.to_json()) if segment else None,
            )
            campaign = Campaign.from_row(row)
            audience = segment.to_json() if segment else None
            await append_event(connection, campaign, "audience_set", {"audience": audience})
        return campaign

    async def delete(self, tenant_id: str, campaign_id: uuid.UUID) -> None:
        async with self._pool.acquire() as connection, connection.transaction():
            current = await self._locked(connection, tenant_id, campaign_id)
            check_deletable(current.status)
            await connection.execute("DELETE FROM notifier.campaigns WHERE id = $1", campaign_id)

    async def change_status(
        self,
        tenant_id: str,
        campaign_id: uuid.UUID,
        action: Action,
        *,
        by: StatusBy = "operator",
        reason: str | None = None,
    ) -> Campaign:
        """Apply ``action`` (start, pause, ...) under the row lock; the campaign as it is
        now. :class:`~cauce_notifier.campaigns.lifecycle.TransitionRefused` when the
        campaign's state does not allow it."""
        async with self._pool.acquire() as connection, connection.transaction():
            current = await self._locked(connection, tenant_id, campaign_id)
            status = next_status(current.status, action)
            # a start or resume is remembered as the trace the recipients' sends link to
            trace = inject_headers({}).get("traceparent") if status is RUNNING else None
            row = await connection.fetchrow(
                "UPDATE notifier.campaigns SET status = $2, status_reason = $3, status_by = $4,"
                " trace_context = coalesce($5, trace_context),"
                " started_at = CASE WHEN $2 = 'RUNNING' THEN coalesce(started_at, now())"
                "   ELSE started_at END,"
                " finished_at = CASE WHEN $2 IN ('COMPLETED', 'CANCELLED', 'FAILED') THEN now()"
                "   WHEN $2 = 'RUNNING' THEN NULL ELSE finished_at END,"
                " updated_at = now() WHERE id = $1 RETURNING *",
                campaign_id,
                status.value,
                reason,
                by,
                trace,
            )
            campaign = Campaign.from_row(row)
            if action == "cancel":
                # what was not handed to the send path stays unsent, and says so
                await connection.execute(
                    "UPDATE notifier.campaign_recipients SET state = 'cancelled',"
                    " note = 'campaign cancelled' WHERE campaign_id = $1 AND state = 'pending'",
                    campaign_id,
                )
            await append_event(connection, campaign, action, _state(campaign))
        CAMPAIGN_STATE_CHANGES.add(1, {"to": status.value, "by": by})
        return campaign

    async def _locked(
        self, connection: asyncpg.Connection, tenant_id: str, campaign_id: uuid.UUID
    ) -> Campaign:
        row = await connection.fetchrow(
            "SELECT * FROM notifier.campaigns WHERE id = $1 AND tenant_id = $2 FOR UPDATE",
            campaign_id,
            tenant_id,
        )
        if row is None:
            raise CampaignNotFound(str(campaign_id))
        return Campaign.from_row(row)


def _state(campaign: Campaign) -> dict[str, Any]:
    return {
        "status": campaign.status.value,
        "reason": campaign.status_reason,
        "by": campaign.status_by,
    }


async def append_event(
    connection: asyncpg.Connection, campaign: Campaign, kind: str, data: Mapping[str, Any]
) -> int:
    """Add to the campaign's event feed (in the caller's transaction); its id."""
    event_id: int = await connection.fetchval(
        "INSERT INTO notifier.campaign_events (campaign_id, tenant_id, kind, data)"
        " VALUES ($1, $2, $3, $4::jsonb) RETURNING id",
        campaign.id,
        campaign.tenant_id,
        kind,
        json.dumps(dict(data), default=str),
    )
    return event_id
