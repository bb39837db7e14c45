"""Starting a campaign, by an operator or when its schedule comes: a campaign whose
audience is a segment of leads gets its recipients first (the leads as they are now),
and does not start when none of them can be sent to."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from cauce_notifier.campaigns.audiences import CrmLeads, LeadSegment
from cauce_notifier.campaigns.recipients import LoadReport, RecipientStore
from cauce_notifier.campaigns.store import Campaign, CampaignStore, StatusBy
from cauce_runtime import CauceError


class NothingToSend(CauceError):
    """The campaign's lead segment gave no recipient who can be sent to."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class CampaignStarter:
    store: CampaignStore
    recipients: RecipientStore
    leads: CrmLeads

    async def start(
        self, tenant_id: str, campaign_id: uuid.UUID, *, by: StatusBy = "operator"
    ) -> Campaign:
        """Resolve the campaign's lead audience (when it has one), then start it.

        :class:`~cauce_notifier.campaigns.audiences.AudienceUnavailable` when crm-sync
        cannot give the leads, :class:`NothingToSend` when none passed the checks,
        :class:`~cauce_notifier.campaigns.lifecycle.TransitionRefused` when the state
        does not allow a start; in each case the campaign did not start.
        """
        campaign = await self.store.get(tenant_id, campaign_id)
        if campaign.audience is not None:
            report = await self.resolve(campaign, campaign.audience)
            if report.accepted == 0:
                raise NothingToSend(
                    f"none of the segment's {report.rejected} lead(s) can be sent to "
                    "(see the rejections)"
                    if report.rejected
                    else "no lead matches the segment"
                )
        return await self.store.change_status(tenant_id, campaign_id, "start", by=by)

    async def resolve(self, campaign: Campaign, segment: LeadSegment) -> LoadReport:
        """Replace the campaign's recipients with the segment's leads as they are now."""
        async with self.leads.export(campaign.tenant_id, segment) as export:
            return await self.recipients.load_leads(campaign, export, segment)
