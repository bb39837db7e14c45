"""Whether a campaign's released send may go to the provider now.

The dispatcher releases a campaign's recipients a little ahead of their send slots;
if the campaign is paused or cancelled meanwhile, the sends already released must not
go out. The send path asks here first: a campaign's state is read from PostgreSQL at
most every :attr:`CampaignGate.ttl_s` per replica, so a pause stops sends on every
replica within that time (plus a send already at the provider).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import asyncpg

from cauce_contracts.outbound import CampaignMessageRequested
from cauce_notifier.campaigns.lifecycle import CampaignStatus


class CampaignGate:
    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        ttl_s: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pool = pool
        self.ttl_s = ttl_s
        self._clock = clock
        self._seen: dict[str, tuple[float, CampaignStatus | None]] = {}

    async def may_send(self, event: CampaignMessageRequested) -> bool:
        """True while the campaign runs. Otherwise the recipient is given back: pending
        again when the campaign is paused (released again on resume), cancelled when it
        was cancelled or is gone, and False."""
        status = await self.status(event.campaign_id)
        if status is CampaignStatus.RUNNING:
            return True
        state, note = (
            ("pending", None)
            if status is CampaignStatus.PAUSED
            else ("cancelled", "campaign stopped before this send")
        )
        await self._pool.execute(
            "UPDATE notifier.campaign_recipients SET state = $3, note = $4, in_flight = false"
            " WHERE campaign_id = $1 AND request_event_id = $2 AND state = 'released'",
            uuid.UUID(event.campaign_id),
            event.event_id,
            state,
            note,
        )
        return False

    async def runs(self, campaign_id: str) -> bool:
        """True while the campaign runs (as of at most :attr:`ttl_s` ago)."""
        return await self.status(campaign_id) is CampaignStatus.RUNNING

    async def status(self, campaign_id: str) -> CampaignStatus | None:
        """The campaign's state as of at most :attr:`ttl_s` ago (None: no such campaign)."""
        now = self._clock()
        seen = self._seen.get(campaign_id)
        if seen is not None and now - seen[0] < self.ttl_s:
            return seen[1]
        value = await self._pool.fetchval(
            "SELECT status FROM notifier.campaigns WHERE id = $1", uuid.UUID(campaign_id)
        )
        status = CampaignStatus(value) if value is not None else None
        if len(self._seen) > 1000:
            self._seen.clear()
        self._seen[campaign_id] = (now, status)
        return status
