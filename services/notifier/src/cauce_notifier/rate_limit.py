"""Send-rate limits shared by every notifier replica, kept in PostgreSQL.

A token bucket per sending account (``<channel>:<account_id>``, rate per account) on
the runtime's shared GCRA limiter (:mod:`cauce_runtime.postgres`): one atomic
statement per send, so replicas never hand out the same slot and no burst above the rate
is possible. The configured rate is scaled by ``headroom`` (default 0.97): a slot is
when a request *starts*, and the provider's limit is what must never be exceeded.

Meta's pair rate limit (131056: too many messages to one recipient) backs off that
recipient only, in ``pair_backoff``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from cauce_runtime.postgres import SharedRateLimiter
from cauce_runtime.postgres import SlotTooFar as SendSlotTooFar

DEFAULT_HEADROOM = 0.97


class SendRateLimiter:
    def __init__(
        self, pool: asyncpg.Pool, *, max_wait_s: float = 2.0, headroom: float = DEFAULT_HEADROOM
    ) -> None:
        self._shared = SharedRateLimiter(pool, "notifier.rate_buckets", headroom=headroom)
        self.max_wait_s = max_wait_s

    async def reserve(
        self, channel: str, account_id: str, rate_per_s: float, *, max_wait_s: float | None = None
    ) -> float:
        """Reserve the account's next send slot; return the seconds to wait for it.

        Raises :class:`SendSlotTooFar` (reserving nothing) when the slot is more than
        ``max_wait_s`` (default: this limiter's) away: the caller should retry later
        instead of holding a worker.
        """
        return await self._shared.reserve(
            f"{channel}:{account_id}",
            rate_per_s,
            max_wait_s=self.max_wait_s if max_wait_s is None else max_wait_s,
        )


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


__all__ = ["DEFAULT_HEADROOM", "PairBackoff", "SendRateLimiter", "SendSlotTooFar"]
