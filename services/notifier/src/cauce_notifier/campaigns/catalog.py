"""The templates each WhatsApp Business Account holds (``notifier.templates``).

Synced from Meta (``GET /{waba_id}/message_templates``, every page) for every WhatsApp
Cloud API account that names its WABA: on a schedule, and on demand through the API.
Between syncs, Meta's template webhooks (status, quality, category, components) keep
the rows current as they happen, so a template paused mid-campaign is seen at once.
A template Meta no longer lists is kept, marked ``DELETED``: past campaigns still name
it.
"""

from __future__ import annotations

import builtins
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from cauce_contracts.business_account import (
    TemplateCategoryChanged,
    TemplateComponentsChanged,
    TemplateQualityChanged,
    TemplateStatusChanged,
)
from cauce_contracts.subjects import Channel
from cauce_notifier.accounts_model import ChannelAccount
from cauce_notifier.campaigns.templates import Template
from cauce_notifier.providers.whatsapp_cloud import WhatsAppCloudClient

logger = logging.getLogger(__name__)

TemplateEvent = (
    TemplateStatusChanged
    | TemplateQualityChanged
    | TemplateCategoryChanged
    | TemplateComponentsChanged
)


@dataclass(frozen=True)
class StoredTemplate:
    """A template as cauce last knew it, with where it came from."""

    business_account_id: str
    tenant_id: str
    template: Template
    status_reason: str | None
    synced_at: datetime
    updated_at: datetime

    @property
    def status_text(self) -> str:
        """The template's status with Meta's reason, as a campaign paused for it says
        (the dispatcher and the webhook consumer may pause it first: the same words)."""
        detail = f": {self.status_reason}" if self.status_reason else ""
        template = self.template
        return f"template {template.name} ({template.language}) is {template.status}{detail}"


@dataclass(frozen=True)
class SyncReport:
    accounts: int
    templates: int
    #: Templates Meta no longer lists (marked ``DELETED``).
    gone: int


class TemplateCatalog:
    def __init__(self, pool: asyncpg.Pool, graph: WhatsAppCloudClient) -> None:
        self._pool = pool
        self._graph = graph

    # --- reading ----------------------------------------------------------------------

    async def list(
        self, tenant_id: str, *, name: str | None = None, status: str | None = None
    ) -> builtins.list[StoredTemplate]:
        rows = await self._pool.fetch(
            "SELECT * FROM notifier.templates WHERE tenant_id = $1"
            " AND ($2::text IS NULL OR name = $2) AND ($3::text IS NULL OR status = $3)"
            " ORDER BY name, language, business_account_id",
            tenant_id,
            name,
            status.upper() if status else None,
        )
        return [_stored(row) for row in rows]

    async def of_account(
        self, account: ChannelAccount, name: str, language: str
    ) -> StoredTemplate | None:
        """The template a campaign sending from ``account`` names, or None."""
        if account.business_account_id is None:
            return None
        row = await self._pool.fetchrow(
            "SELECT * FROM notifier.templates"
            " WHERE business_account_id = $1 AND name = $2 AND language = $3",
            account.business_account_id,
            name,
            language,
        )
        return None if row is None else _stored(row)

    # --- syncing ----------------------------------------------------------------------

    async def sync(self, accounts: builtins.list[ChannelAccount]) -> SyncReport:
        """Every template of the WABAs of ``accounts`` (WhatsApp Cloud API accounts that
        name one; each WABA once), as Meta lists them now."""
        seen_wabas: dict[str, ChannelAccount] = {}
        for account in accounts:
            waba = account.business_account_id
            if account.channel is Channel.WHATSAPP and waba and waba not in seen_wabas:
                seen_wabas[waba] = account
        templates = gone = 0
        for waba, account in seen_wabas.items():
            listed = [t async for t in self._graph.message_templates(account, waba)]
            templates += len(listed)
            gone += await self._store_listing(account.tenant_id, waba, listed)
        return SyncReport(accounts=len(seen_wabas), templates=templates, gone=gone)

    async def _store_listing(
        self, tenant_id: str, waba: str, listed: builtins.list[dict[str, Any]]
    ) -> int:
        now = datetime.now(UTC)
        async with self._pool.acquire() as connection, connection.transaction():
            for data in listed:
                template = Template.from_meta(data)
                await connection.execute(
                    """
                    INSERT INTO notifier.templates (business_account_id, name, language,
                        tenant_id, template_id, status, category, quality, status_reason,
                        meta, synced_at, updated_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, now())
                    ON CONFLICT (business_account_id, name, language) DO UPDATE SET
                        tenant_id = EXCLUDED.tenant_id, template_id = EXCLUDED.template_id,
                        status = EXCLUDED.status, category = EXCLUDED.category,
                        quality = EXCLUDED.quality,
                        status_reason = coalesce(EXCLUDED.status_reason,
                                                 notifier.templates.status_reason),
                        meta = EXCLUDED.meta, synced_at = EXCLUDED.synced_at, updated_at = now()
                    """,
                    waba,
                    template.name,
                    template.language,
                    tenant_id,
                    template.template_id,
                    template.status,
                    template.category,
                    template.quality,
                    _reason(data),
                    json.dumps(data),
                    now,
                )
            status = await connection.execute(
                "UPDATE notifier.templates SET status = 'DELETED', updated_at = now()"
                " WHERE business_account_id = $1 AND synced_at < $2 AND status <> 'DELETED'",
                waba,
                now,
            )
        return int(status.split()[-1])

    # --- Meta's webhooks --------------------------------------------------------------

    async def apply(self, event: TemplateEvent) -> StoredTemplate | None:
        """Apply a template webhook to its row (a template not synced yet is added from
        what the webhook says); the template as it is now."""
        ref = event.template
        changes: dict[str, Any] = {}
        if isinstance(event, TemplateStatusChanged):
            changes = {"status": event.status, "status_reason": _status_reason(event)}
        elif isinstance(event, TemplateQualityChanged):
            changes = {"quality": event.quality}
        elif isinstance(event, TemplateCategoryChanged):
            changes = {"category": event.category}
        row = await self._pool.fetchrow(
            """
            INSERT INTO notifier.templates (business_account_id, name, language, tenant_id,
                template_id, status, category, quality, status_reason, meta, synced_at)
            VALUES ($1, $2, $3, $4, $5, coalesce($6, 'PENDING'), coalesce($7, 'UTILITY'), $8,
                    $9, $10::jsonb, $11)
            ON CONFLICT (business_account_id, name, language) DO UPDATE SET
                template_id = coalesce(EXCLUDED.template_id, notifier.templates.template_id),
                status = coalesce($6, notifier.templates.status),
                category = coalesce($7, notifier.templates.category),
                quality = coalesce($8, notifier.templates.quality),
                status_reason = CASE WHEN $6 IS NULL THEN notifier.templates.status_reason
                                     ELSE $9 END,
                updated_at = now()
            RETURNING *
            """,
            event.business_account_id,
            ref.name,
            ref.language,
            event.tenant_id,
            ref.template_id,
            changes.get("status"),
            changes.get("category"),
            changes.get("quality"),
            changes.get("status_reason"),
            json.dumps({"name": ref.name, "language": ref.language, "components": []}),
            event.changed_at,
        )
        return None if row is None else _stored(row)


def _status_reason(event: TemplateStatusChanged) -> str | None:
    """Meta's reason code (``INVALID_FORMAT``; ``NONE`` says nothing) and its
    explanation, in one text: a rejection carries both, and either alone loses half."""
    named = event.reason if event.reason != "NONE" else None
    return ": ".join(text for text in (named, event.detail) if text) or event.reason


def _reason(data: dict[str, Any]) -> str | None:
    reason = data.get("rejected_reason")
    return str(reason) if reason and reason != "NONE" else None


def _stored(row: asyncpg.Record) -> StoredTemplate:
    meta = json.loads(row["meta"])
    meta.update(
        name=row["name"],
        language=row["language"],
        status=row["status"],
        category=row["category"],
        id=row["template_id"],
        quality_score={"score": row["quality"]} if row["quality"] else None,
    )
    return StoredTemplate(
        business_account_id=row["business_account_id"],
        tenant_id=row["tenant_id"],
        template=Template.from_meta(meta),
        status_reason=row["status_reason"],
        synced_at=row["synced_at"],
        updated_at=row["updated_at"],
    )
