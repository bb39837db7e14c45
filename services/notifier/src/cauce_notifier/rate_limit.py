"""Send-rate limits shared by every notifier replica, kept in PostgreSQL.

A token bucket per sending account, implemented as GCRA (the "virtual scheduling"
form of a token bucket): each account has a theoretical arrival time ``tat``; a send
reserves the slot ``max(tat, now)`` and pushes ``tat`` one emission interval
(``1 / rate``) further. One atomic ``INSERT ... ON CONFLICT DO UPDATE`` per send, so
replicas never hand out the same slot, and no burst above the rate is possible: in any
1 s window at most ``rate`` slots start.

The configured rate is scaled by ``headroom`` (default 0.97) because a slot is the time
we *start* a request: network jitter can bunch two requests at the provider, and the
provider's limit is what must never be exceeded.

Meta's pair rate limit (131056: too many messages to one recipient) backs off that
recipient only, in ``pair_backoff``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

DEFAULT_HEADROOM = 0.97


class SendSlotTooFar(Exception):
    """The next free slot is further away than the caller is willing to wait."""

    def __init__(self, retry_in_s: float) -> None:
        super().__init__(f"no send slot within reach; retry in {retry_in_s:.3f}s")
        self.retry_in_s = retry_in_s


_RESERVE = """
INSERT INTO notifier.rate_buckets AS b (channel, account_id, tat)
VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3))
ON CONFLICT (channel, account_id) DO UPDATE
    SET tat = GREATEST(b.tat, clock_timestamp()) + make_interval(secs => $3)
    WHERE GREATEST(b.tat, clock_timestamp()) <= clock_timestamp() + make_interval(secs => $4)
RETURNING EXTRACT(EPOCH FROM (b.tat - clock_timestamp()))::float8 - $3 AS wait_s
"""

_NEXT_SLOT = """
SELECT GREATEST(EXTRACT(EPOCH FROM (tat - clock_timestamp()))::float8, 0)
FROM notifier.rate_buckets WHERE channel = $1 AND account_id = $2
"""


class SendRateLimiter:
    def __init__(
        self, pool: asyncpg.Pool, *, max_wait_s: float = 2.0, headroom: float = DEFAULT_HEADROOM
    ) -> None:
        self.pool = pool
        self.max_wait_s = max_wait_s
        self.headroom = headroom

    async def reserve(self, channel: str, account_id: str, rate_per_s: float) -> float:
        """Reserve the account's next send slot; return the seconds to wait for it.

        Raises :class:`SendSlotTooFar` (reserving nothing) when the slot is more than
        ``max_wait_s`` away: the caller should retry later instead of holding a worker.
        """
        interval = 1.0 / (rate_per_s * self.headroom)
        async with self.pool.acquire() as connection:
            wait = await connection.fetchval(
                _RESERVE, channel, account_id, interval, self.max_wait_s
            )
            if wait is None:
                next_slot = await connection.fetchval(_NEXT_SLOT, channel, account_id)
                raise SendSlotTooFar(max(0.05, float(next_slot or 0.0) - self.max_wait_s))
        return max(0.0, float(wait))


class PairBackoff:
    """Recipients Meta told us to leave alone for a while (error 131056)."""

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

    async def remaining(self, channel: str, account_id: str, contact_key: str) -> float:
        """Seconds this recipient is still backed off (0 when free)."""
        value = await self.pool.fetchval(
            """
            SELECT EXTRACT(EPOCH FROM (until - clock_timestamp()))::float8
            FROM notifier.pair_backoff
            WHERE channel = $1 AND account_id = $2 AND contact_key = $3
            """,
            channel,
            account_id,
            contact_key,
        )
        return max(0.0, float(value)) if value is not None else 0.0
