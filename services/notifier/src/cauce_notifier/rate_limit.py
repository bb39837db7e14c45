"""Send-rate limits shared by every notifier replica, kept in PostgreSQL.

A token bucket per sending account (``<channel>:<account_id>``, rate per account) on
the runtime's shared GCRA limiter (:mod:`cauce_runtime.postgres`): one atomic
statement per send, so replicas never hand out the same slot and no burst above the rate
is possible. The configured rate is scaled by ``headroom`` (default 0.97): a slot is
when a request *starts*, and the provider's limit is what must never be exceeded.

Conversation replies go first: a reply finding the account's queue short and made of a
campaign's sends (passable: they wait for their slots at most
``CAUCE_CAMPAIGN_SLOT_WAIT_S``) starts now instead of waiting behind it, within
``CAUCE_REPLY_RATE_SHARE`` of the rate (:class:`~cauce_runtime.postgres.Ahead`); the
queue's last slot is left empty for it. Replies among themselves keep their order.
Within a second the provider may then see a few starts more than the limiter's rate:
at most half of what the headroom leaves (:func:`replies_ahead_burst`), so on a slow
number, whose headroom is less than a send, replies queue like any send.

Meta's pair rate limit (131056: too many messages to one recipient) backs off that
recipient only, in ``pair_backoff``.
"""

from __future__ import annotations

import functools
import math
from datetime import UTC, datetime, timedelta

import asyncpg

from cauce_runtime.postgres import Ahead, SharedRateLimiter
from cauce_runtime.postgres import SlotTooFar as SendSlotTooFar

DEFAULT_HEADROOM = 0.97
#: Most replies that go ahead of a queue at once, before their share's pace applies.
MAX_REPLIES_AHEAD = 2
#: Where replies may not go ahead (a slow number), a campaign's send reserves its slot
#: at most this far ahead: the queue a reply then waits behind.
SLOW_NUMBER_CAMPAIGN_REACH_S = 0.02


def replies_ahead_burst(rate_per_s: float, headroom: float, share: float, within_s: float) -> int:
    """How many replies may go ahead at once on a number of ``rate_per_s``.

    Meta counts a number's sends per second. The limiter's grid puts at most
    ``rate * headroom + 1`` starts in a second, so the headroom leaves ``rate * (1 -
    headroom) - 1``; half of that is kept for the network's bunching, and what goes
    ahead adds at most its burst plus ``share * rate * within_s`` (see
    :class:`~cauce_runtime.postgres.Ahead`). 0: replies may not go ahead here.
    """
    room = (rate_per_s * (1 - headroom) - 1) / 2 - share * rate_per_s * within_s
    return max(0, min(MAX_REPLIES_AHEAD, math.floor(room)))


class SendRateLimiter:
    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        max_wait_s: float = 2.0,
        headroom: float = DEFAULT_HEADROOM,
        reply_share: float = 0.0,
        reply_ahead_within_s: float = 0.1,
    ) -> None:
        self._shared = SharedRateLimiter(pool, "notifier.rate_buckets", headroom=headroom)
        self.max_wait_s = max_wait_s
        self.headroom = headroom
        #: Share of a number's rate replies may send ahead of a queue (0: none).
        self.reply_share = reply_share
        #: The longest queue a reply goes ahead of.
        self.reply_ahead_within_s = reply_ahead_within_s

    async def reserve(
        self,
        channel: str,
        account_id: str,
        rate_per_s: float,
        *,
        max_wait_s: float | None = None,
        reply: bool = False,
    ) -> float:
        """Reserve the account's next send slot; return the seconds to wait for it.

        Raises :class:`SendSlotTooFar` (reserving nothing) when the slot is more than
        ``max_wait_s`` (default: this limiter's) away: the caller should retry later
        instead of holding a worker. ``reply``: a conversation reply, which goes ahead
        of a campaign's short queue within its share; any other send (a campaign's) may
        be gone ahead of.
        """
        ahead = self.replies_ahead(rate_per_s)
        return await self._shared.reserve(
            f"{channel}:{account_id}",
            rate_per_s,
            max_wait_s=self.max_wait_s if max_wait_s is None else max_wait_s,
            ahead=ahead if reply else None,
            # marked only where a reply may go ahead of it: elsewhere no one reads it
            passable=not reply and ahead is not None,
        )

    def interval_s(self, rate_per_s: float) -> float:
        """Seconds between two slots of a number of ``rate_per_s``."""
        return self._shared.interval_s(rate_per_s)

    def campaign_reach_s(self, rate_per_s: float, reach_s: float) -> float:
        """How far ahead a campaign's send reserves its slot on a number of
        ``rate_per_s``: ``reach_s`` where replies go ahead of its queue; where they may
        not, at most :data:`SLOW_NUMBER_CAMPAIGN_REACH_S`, so that a reply waits behind
        that and no more. (On an 80/s number whose replies took more than the campaign
        left them, replies waited 110 / 119 ms, p50 / p99, behind a 0.1 s queue; 31 /
        44 ms behind 20 ms, the campaign as fast: its sends wait for their slot in
        their workers.)"""
        if self.replies_ahead(rate_per_s) is not None:
            return reach_s
        return min(reach_s, SLOW_NUMBER_CAMPAIGN_REACH_S)

    @functools.lru_cache(maxsize=256)  # noqa: B019 - one per rate; the limiter lives as long
    def replies_ahead(self, rate_per_s: float) -> Ahead | None:
        """How a reply on a number of ``rate_per_s`` goes ahead (None: it does not)."""
        if not self.reply_share:
            return None
        within_s = self.reply_ahead_within_s
        burst = replies_ahead_burst(rate_per_s, self.headroom, self.reply_share, within_s)
        return Ahead(self.reply_share, within_s, burst) if burst else None


class PairBackoff:
    """Recipients Meta told us to leave alone for a while (error 131056); the send path
    reads the back-off with the request (``MessageStore.admit``)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def back_off(self, channel: str, account_id: str, contact_key: str, for_s: float) -> None:
        until = datetime.now(UTC) + timedelta(seconds=for_s)
        await self.pool.execute(
            """
            INSERT INTO notifier.pair_backoff (channel, account_id, contact_key, until)
            VALUES ($1, $2, $3, $4)
            ON CONFLICT (channel, account_id, contact_key)
            DO UPDATE SET until = GREATEST(notifier.pair_backoff.until, EXCLUDED.until)
            """,
            channel,
            account_id,
            contact_key,
            until,
        )


__all__ = [
    "DEFAULT_HEADROOM",
    "MAX_REPLIES_AHEAD",
    "SLOW_NUMBER_CAMPAIGN_REACH_S",
    "PairBackoff",
    "SendRateLimiter",
    "SendSlotTooFar",
    "replies_ahead_burst",
]
