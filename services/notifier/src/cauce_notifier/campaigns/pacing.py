"""The limits a campaign meets that a one-off send does not, and when to stop on its own.

- **Messaging limit.** A business may reach only so many customers outside their
  customer-service window in a moving 24 hours (Meta's tiers: 250, 2,000, 10,000,
  100,000, unlimited; per business portfolio since October 2025). The limit is what
  Meta last reported (``notifier.messaging_limits``, from its webhooks) for the sending
  number's WABA or the number itself; the dispatcher releases no more than what is left
  of it, and the rest wait for the window to free up. Unknown: unlimited.
- **Failure burst.** When too many of a campaign's latest sends failed, it pauses
  itself with the reason instead of burning the list (a wrong template, a blocked
  number).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import asyncpg

from cauce_notifier.accounts_model import ChannelAccount
from cauce_notifier.campaigns.store import Campaign


async def daily_limit(pool: asyncpg.Pool, account: ChannelAccount) -> int | None:
    """The messaging limit Meta reported for the account's WABA or number (the lower
    when both); None when unlimited or never reported."""
    ids = [i for i in (account.business_account_id, account.account_id) if i]
    rows = await pool.fetch(
        "SELECT daily_limit FROM notifier.messaging_limits WHERE account_id = ANY($1::text[])",
        ids,
    )
    limits = [row["daily_limit"] for row in rows if row["daily_limit"] is not None]
    return min(limits) if limits else None


@dataclass(frozen=True)
class FailureBurst:
    """Pause a campaign when ``threshold`` or more of its last ``window`` outcomes failed."""

    window: int = 50
    threshold: float = 0.5

    async def reason(self, pool: asyncpg.Pool, campaign: Campaign) -> str | None:
        """Why the campaign should pause, or None."""
        rows = await pool.fetch(
            "SELECT status, error_code FROM notifier.messages"
            " WHERE campaign_id = $1 AND status <> 'requested'"
            " ORDER BY updated_at DESC LIMIT $2",
            str(campaign.id),
            self.window,
        )
        if len(rows) < self.window:
            return None
        failed = [row["error_code"] or "unknown" for row in rows if row["status"] == "failed"]
        if len(failed) < self.threshold * self.window:
            return None
        codes = ", ".join(f"{code} x{n}" for code, n in Counter(failed).most_common(3))
        return f"{len(failed)} of the last {len(rows)} sends failed ({codes})"
