"""A rate limit shared by every replica of a service, kept in PostgreSQL.

GCRA, the "virtual scheduling" form of a token bucket without bursts: each bucket has a
theoretical arrival time ``tat``; taking a slot reserves ``max(tat, now)`` and pushes
``tat`` one emission interval (``1 / rate``) further, in one atomic
``INSERT ... ON CONFLICT DO UPDATE``. Replicas never hand out the same slot, and in any
window of ``1 / rate`` seconds at most one slot starts.

The configured rate is scaled by ``headroom`` because a slot is when a request *starts*:
network jitter can bunch two requests at the provider, whose limit is what must hold.

The bucket table lives in the service's own schema and is created by its migrations::

    CREATE TABLE <schema>.rate_buckets (bucket text PRIMARY KEY, tat timestamptz NOT NULL);
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from cauce_runtime import metrics

_TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}\.[a-z_][a-z0-9_]{0,62}$")


class SharedRateLimiter:
    """Slots of one named bucket at ``rate_per_s`` (times ``headroom``), across replicas.

    ``pool`` is an ``asyncpg.Pool`` (anything with ``fetchval``); ``table`` is the
    schema-qualified bucket table (``crm.rate_buckets``).
    """

    def __init__(
        self,
        pool: Any,
        table: str,
        bucket: str,
        rate_per_s: float,
        *,
        headroom: float = 1.0,
    ) -> None:
        if not _TABLE_NAME.match(table):
            raise ValueError(f"not a plain schema.table name: {table!r}")
        if rate_per_s <= 0 or not 0 < headroom <= 1:
            raise ValueError("rate_per_s must be > 0 and headroom in (0, 1]")
        self._pool = pool
        self.bucket = bucket
        self.interval_s = 1.0 / (rate_per_s * headroom)
        self._reserve_sql = f"""
            INSERT INTO {table} AS b (bucket, tat)
            VALUES ($1, clock_timestamp() + make_interval(secs => $2))
            ON CONFLICT (bucket) DO UPDATE
                SET tat = GREATEST(b.tat, clock_timestamp()) + make_interval(secs => $2)
            RETURNING EXTRACT(EPOCH FROM (b.tat - clock_timestamp()))::float8 - $2
            """  # noqa: S608 - the table name is checked above
        self._next_sql = f"""
            SELECT GREATEST(EXTRACT(EPOCH FROM (tat - clock_timestamp()))::float8, 0)
            FROM {table} WHERE bucket = $1
            """  # noqa: S608 - the table name is checked above

    async def reserve(self) -> float:
        """Take the next slot; return the seconds until it starts (0 when it is now)."""
        wait = await self._pool.fetchval(self._reserve_sql, self.bucket, self.interval_s)
        return max(0.0, float(wait))

    async def acquire(self) -> None:
        """Take the next slot and sleep until it starts (a :data:`Throttle`)."""
        wait = await self.reserve()
        metrics.RATE_LIMIT_WAIT_SECONDS.record(wait, {"limiter": self.bucket})
        if wait > 0:
            await asyncio.sleep(wait)

    async def until_free(self) -> None:
        """Sleep until the next slot is free, reserving nothing.

        A caller that gathers work into one request waits here first, so everything that
        arrives meanwhile goes into that request rather than the one after.
        """
        wait = await self._pool.fetchval(self._next_sql, self.bucket)
        if wait:
            await asyncio.sleep(float(wait))
