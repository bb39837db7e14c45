"""What Meta reports about a business account, applied to campaigns.

- A template's status, quality, category or texts change: the catalog follows; a
  template that can no longer be sent (paused, disabled, rejected, deleted) or whose
  quality turned ``RED`` pauses every running campaign that sends it, with the reason.
- A customer stops marketing messages (``user_preferences``): they join the tenant's
  suppression list; ``resume`` takes them off it.
- A messaging limit changes: it is recorded for the campaigns' pacing; a number
  Meta flags or downgrades for its quality pauses the campaigns sending from it.
"""

from __future__ import annotations

import contextlib
import logging

import asyncpg

from cauce_contracts.business_account import (
    MarketingPreferenceChanged,
    MessagingLimitChanged,
    TemplateCategoryChanged,
    TemplateComponentsChanged,
    TemplateQualityChanged,
    TemplateStatusChanged,
)
from cauce_notifier.campaigns.catalog import TemplateCatalog
from cauce_notifier.campaigns.lifecycle import TransitionRefused
from cauce_notifier.campaigns.store import CampaignStore
from cauce_runtime import Delivery

logger = logging.getLogger(__name__)

BusinessAccountEvent = (
    TemplateStatusChanged
    | TemplateQualityChanged
    | TemplateCategoryChanged
    | TemplateComponentsChanged
    | MessagingLimitChanged
    | MarketingPreferenceChanged
)
BUSINESS_ACCOUNT_EVENTS = (
    TemplateStatusChanged,
    TemplateQualityChanged,
    TemplateCategoryChanged,
    TemplateComponentsChanged,
    MessagingLimitChanged,
    MarketingPreferenceChanged,
)
#: Quality events after which a number's campaigns pause (Meta lowers its limit or
#: will, if quality keeps dropping).
QUALITY_DROPS = frozenset({"FLAGGED", "DOWNGRADE"})
#: Template statuses with which WhatsApp refuses to send it.
UNSENDABLE = frozenset(
    {"PAUSED", "DISABLED", "REJECTED", "DELETED", "PENDING_DELETION", "ARCHIVED"}
)


class BusinessAccountUpdates:
    def __init__(
        self, pool: asyncpg.Pool, catalog: TemplateCatalog, campaigns: CampaignStore
    ) -> None:
        self._pool = pool
        self._catalog = catalog
        self._campaigns = campaigns

    async def apply(self, event: BusinessAccountEvent, delivery: Delivery) -> None:
        if isinstance(event, MarketingPreferenceChanged):
            await self._preference(event)
        elif isinstance(event, MessagingLimitChanged):
            await self._limit(event)
        else:
            await self._template(event)

    async def _template(
        self,
        event: TemplateStatusChanged
        | TemplateQualityChanged
        | TemplateCategoryChanged
        | TemplateComponentsChanged,
    ) -> None:
        stored = await self._catalog.apply(event)
        if stored is None:
            return
        template = stored.template
        reason: str | None = None
        if template.status in UNSENDABLE:
            reason = stored.status_text
        elif template.quality == "RED":
            reason = f"template {template.name} ({template.language}) quality dropped to RED"
        if reason is not None:
            await self._pause_campaigns_of(
                event.business_account_id, template.name, template.language, reason
            )

    async def _pause_campaigns_of(self, waba: str, name: str, language: str, reason: str) -> None:
        rows = await self._pool.fetch(
            "SELECT c.id, c.tenant_id FROM notifier.campaigns c"
            " JOIN notifier.channel_accounts a"
            "   ON a.channel = c.channel AND a.account_id = c.channel_account_id"
            " WHERE c.status = 'RUNNING' AND a.business_account_id = $1"
            "   AND c.template_name = $2 AND c.template_language = $3",
            waba,
            name,
            language,
        )
        for row in rows:
            with contextlib.suppress(TransitionRefused):
                await self._campaigns.change_status(
                    row["tenant_id"], row["id"], "pause", by="platform", reason=reason
                )
                logger.warning("campaign %s paused by the platform: %s", row["id"], reason)

    async def _preference(self, event: MarketingPreferenceChanged) -> None:
        if event.preference == "stop":
            await self._pool.execute(
                "INSERT INTO notifier.suppressions (tenant_id, contact_key, source, reason)"
                " VALUES ($1, $2, 'whatsapp_preferences', $3)"
                " ON CONFLICT (tenant_id, contact_key) DO NOTHING",
                event.tenant_id,
                event.contact_key,
                event.detail or f"stopped {event.category}",
            )
        else:
            await self._pool.execute(
                "DELETE FROM notifier.suppressions WHERE tenant_id = $1 AND contact_key = $2",
                event.tenant_id,
                event.contact_key,
            )

    async def _quality_drop(self, event: MessagingLimitChanged) -> None:
        rows = await self._pool.fetch(
            "SELECT c.id, c.tenant_id FROM notifier.campaigns c"
            " JOIN notifier.channel_accounts a"
            "   ON a.channel = c.channel AND a.account_id = c.channel_account_id"
            " WHERE c.status = 'RUNNING'"
            "   AND (a.account_id = $1 OR a.business_account_id = $1)",
            event.account_id,
        )
        reason = f"the sending number's quality dropped (Meta: {event.quality_event})"
        for row in rows:
            with contextlib.suppress(TransitionRefused):
                await self._campaigns.change_status(
                    row["tenant_id"], row["id"], "pause", by="platform", reason=reason
                )
                logger.warning("campaign %s paused by the platform: %s", row["id"], reason)

    async def _limit(self, event: MessagingLimitChanged) -> None:
        if event.quality_event in QUALITY_DROPS:
            await self._quality_drop(event)
        await self._pool.execute(
            """
            INSERT INTO notifier.messaging_limits
                (account_id, scope, tier, daily_limit, quality_event, changed_at)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (account_id) DO UPDATE SET scope = EXCLUDED.scope,
                tier = coalesce(EXCLUDED.tier, notifier.messaging_limits.tier),
                daily_limit = EXCLUDED.daily_limit,
                quality_event = EXCLUDED.quality_event, changed_at = EXCLUDED.changed_at
            WHERE notifier.messaging_limits.changed_at <= EXCLUDED.changed_at
            """,
            event.account_id,
            event.scope,
            event.tier,
            event.limit,
            event.quality_event,
            event.changed_at,
        )
