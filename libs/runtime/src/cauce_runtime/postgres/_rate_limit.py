"""Rate limits shared by every replica of a service, kept in PostgreSQL.

GCRA, the "virtual scheduling" form of a token bucket without bursts: each bucket has a
theoretical arrival time ``tat``; taking a slot reserves ``max(tat, now)`` and pushes
``tat`` one emission interval (``1 / rate``) further, in one atomic
``INSERT ... ON CONFLICT DO UPDATE``. Replicas never hand out the same slot, and in any
window of ``1 / rate`` seconds at most one slot starts.

The rate is scaled by ``headroom`` because a slot is when a request *starts*: network
jitter can bunch two requests at the provider, whose limit is what must hold.

Used by the notifier (a bucket per sending account, rate per account) and crm-sync (one
bucket for Odoo). The bucket table lives in the service's own schema, created by its
migrations::

    CREATE TABLE <schema>.rate_buckets (bucket text PRIMARY KEY, tat timestamptz NOT NULL);
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from cauce_runtime.telemetry import metrics

_TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}\.[a-z_][a-z0-9_]{0,62}$")
#: "No bound" for :meth:`SharedRateLimiter.reserve`'s ``max_wait_s``.
UNBOUNDED_WAIT_S = 10 * 365 * 24 * 3600.0


class SlotTooFar(Exception):
    """The next free slot is further away than the caller is willing to wait."""

    def __init__(self, retry_in_s: float) -> None:
        super().__init__(f"no slot within reach; retry in {retry_in_s:.3f}s")
        self.retry_in_s = retry_in_s


class SharedRateLimiter:
    """Slots of named buckets across replicas. ``pool`` is an ``asyncpg.Pool`` (anything
    with ``fetchval``); ``table`` is the schema-qualified bucket table.

    Reserve outside any transaction of your own (a pool does that): the reservation
    commits asynchronously, and inside a caller's transaction that would hold for the
    caller's whole commit.
    """

    def __init__(self, pool: Any, table: str, *, headroom: float = 1.0) -> None:
        if not _TABLE_NAME.match(table):
            raise ValueError(f"not a plain schema.table name: {table!r}")
        if not 0 < headroom <= 1:
            raise ValueError("headroom must be in (0, 1]")
        self._pool = pool
        self.headroom = headroom
        # A slot is reserved only when it starts within $3 seconds; otherwise nothing is
        # reserved and RETURNING yields no row.
        # The statement commits without waiting for its WAL flush (``synchronous_commit``
        # off for this transaction only): every slot of a bucket updates the same row, so
        # with a synchronous commit the row lock is held through an fsync and a busy
        # bucket runs at the disk's flush rate.
        # What a database crash can lose is the last fraction of a second of reserved
        # slots: after recovery a few slots may be handed out twice, a burst of at most
        # that fraction of a second at the provider, which answers it with a 429 that
        # callers already retry.
        self._reserve_sql = f"""
            INSERT INTO {table} AS b (bucket, tat)
            SELECT $1, clock_timestamp() + make_interval(secs => $2)
            FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit
            ON CONFLICT (bucket) DO UPDATE
                SET tat = GREATEST(b.tat, clock_timestamp()) + make_interval(secs => $2)
                WHERE GREATEST(b.tat, clock_timestamp())
                      <= clock_timestamp() + make_interval(secs => $3)
            RETURNING EXTRACT(EPOCH FROM (b.tat - clock_timestamp()))::float8 - $2
            """  # noqa: S608 - the table name is checked above
        self._next_sql = f"""
            SELECT GREATEST(EXTRACT(EPOCH FROM (tat - clock_timestamp()))::float8, 0)
            FROM {table} WHERE bucket = $1
            """  # noqa: S608 - the table name is checked above

    def interval_s(self, rate_per_s: float) -> float:
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be > 0")
        return 1.0 / (rate_per_s * self.headroom)

    async def reserve(
        self, bucket: str, rate_per_s: float, *, max_wait_s: float = UNBOUNDED_WAIT_S
    ) -> float:
        """Take ``bucket``'s next slot; return the seconds until it starts (0: now).

        Raises :class:`SlotTooFar` (reserving nothing) when the slot is more than
        ``max_wait_s`` away: the caller should retry later instead of holding a worker.
        """
        wait = await self._pool.fetchval(
            self._reserve_sql, bucket, self.interval_s(rate_per_s), max_wait_s
        )
        if wait is None:
            raise SlotTooFar(max(0.05, await self.next_slot_in(bucket) - max_wait_s))
        return max(0.0, float(wait))

    async def next_slot_in(self, bucket: str) -> float:
        """Seconds until ``bucket``'s next free slot (0 when free now), reserving nothing."""
        wait = await self._pool.fetchval(self._next_sql, bucket)
        return float(wait or 0.0)

    async def acquire(self, bucket: str, rate_per_s: float) -> None:
        """Take the next slot and sleep until it starts."""
        wait = await self.reserve(bucket, rate_per_s)
        metrics.RATE_LIMIT_WAIT_SECONDS.record(wait, {"limiter": bucket})
        if wait > 0:
            await asyncio.sleep(wait)

    async def until_free(self, bucket: str) -> None:
        """Sleep until ``bucket``'s next slot is free, reserving nothing.

        A caller that gathers work into one request waits here first, so everything that
        arrives meanwhile goes into that request rather than the one after.
        """
        wait = await self.next_slot_in(bucket)
        if wait:
            await asyncio.sleep(wait)
