"""Rate limits shared by every replica of a service, kept in PostgreSQL.

GCRA, the "virtual scheduling" form of a token bucket without bursts: each bucket has a
theoretical arrival time ``tat``; taking a slot reserves ``max(tat, now)`` and pushes
``tat`` one emission interval (``1 / rate``) further, in one atomic
``INSERT ... ON CONFLICT DO UPDATE``. Replicas never hand out the same slot, and in any
window of ``1 / rate`` seconds at most one slot starts.

The rate is scaled by ``headroom`` because a slot is when a request *starts*: network
jitter can bunch two requests at the provider, whose limit is what must hold.

Callers that ask for slots of the same bucket while a reservation of it is on its way
to PostgreSQL are served together by the next one: one statement reserves ``n``
consecutive slots and each caller gets its own, in the order they asked. A busy sender
(the notifier's workers, dozens of sends in flight) then pays one round trip for a group
of slots instead of one per send; a lone caller pays one round trip as before.

A caller may go **ahead** of a short queue of *passable* reservations (:class:`Ahead`:
the notifier's conversation replies, ahead of a campaign's sends already waiting for
their slots; replies among themselves keep their order). It starts now and pushes
``tat`` one interval as any caller does, so the slot at the end of the queue is left
empty and the bucket's rate holds over time. What it adds meanwhile is bounded: only a
queue whose last reservation was passable (``<bucket>|passable`` holds its end) and
whose last slot starts within ``Ahead.within_s`` is jumped, and going ahead has a bucket
of its own (``<bucket>|ahead``, at ``Ahead.share`` of the rate with a burst of
``Ahead.burst``), so any window holds at most ``share * rate * within_s + burst`` more
starts than the rate alone would put in it. The caller picks a burst its headroom takes
(the notifier: ``replies_ahead_burst``).

Used by the notifier (a bucket per sending account, rate per account) and crm-sync (one
bucket for Odoo). The bucket table lives in the service's own schema, created by its
migrations::

    CREATE TABLE <schema>.rate_buckets (bucket text PRIMARY KEY, tat timestamptz NOT NULL);
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

from cauce_runtime._coalescing import Coalescer
from cauce_runtime.telemetry import metrics

_TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}\.[a-z_][a-z0-9_]{0,62}$")
#: "No bound" for :meth:`SharedRateLimiter.reserve`'s ``max_wait_s``.
UNBOUNDED_WAIT_S = 10 * 365 * 24 * 3600.0


@dataclass(frozen=True)
class Ahead:
    """How a caller may go ahead of a bucket's queue (see the module's docstring)."""

    #: Share of the bucket's rate that may go ahead of its queue.
    share: float
    #: Only a queue whose last slot starts within this many seconds is jumped (a longer
    #: one is not a short wait behind others but the bucket at its rate: wait in it).
    within_s: float
    #: How many may go ahead at once, before the share's pace applies.
    burst: int = 2

    def __post_init__(self) -> None:
        if not 0 < self.share <= 1 or self.within_s <= 0 or self.burst < 1:
            raise ValueError("share must be in (0, 1], within_s > 0 and burst >= 1")


#: The bucket that paces callers going ahead of ``bucket``'s queue.
AHEAD_SUFFIX = "|ahead"
#: Where ``bucket``'s last passable reservation ends (its ``tat`` then).
PASSABLE_SUFFIX = "|passable"


#: What reservations are grouped by: bucket, interval, max wait, ahead, passable.
_GroupKey = tuple[str, float, float, Ahead | None, bool]


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
        #: Reservations by (bucket, interval, max wait, ahead, passable), grouped while
        #: one is in flight.
        self._groups: Coalescer[_GroupKey, None, float] = Coalescer(self._grant)
        self._reserve_sql = f"""
            WITH taken AS ({_reservation(table)})
            {_wait_or_next_in(table)}
            """
        # The same reservation, passable: it also records where it ends ($5).
        self._passable_sql = f"""
            WITH taken AS ({_reservation(table)}),
            passable AS (
                INSERT INTO {table} AS p (bucket, tat) SELECT $5, tat FROM taken
                ON CONFLICT (bucket) DO UPDATE SET tat = GREATEST(p.tat, EXCLUDED.tat)
            )
            {_wait_or_next_in(table)}
            """  # noqa: S608 - the table name is checked above
        # The same reservation, but when the bucket's queue is short (its last slot starts
        # within $8 seconds) and passable (its last reservation ends where $9 says) and
        # its ahead bucket ($5, one slot per $6 seconds, $7 seconds of burst) has a slot,
        # the first caller starts now: $4 slots are still taken, so the last of them
        # stays empty. Returns the first queued slot's wait and whether one went ahead;
        # no row's wait (NULL) when nothing was reserved.
        self._ahead_sql = f"""
            WITH queue AS (
                SELECT b.tat - clock_timestamp() AS length, p.tat >= b.tat AS passable
                FROM {table} b LEFT JOIN {table} p ON p.bucket = $9
                WHERE b.bucket = $1
            ),
            went AS (
                INSERT INTO {table} AS b (bucket, tat)
                SELECT $5, clock_timestamp() + make_interval(secs => $6::float8)
                FROM queue
                WHERE queue.passable
                  AND queue.length > interval '0'
                  AND queue.length <= make_interval(secs => $8::float8 + $2::float8)
                ON CONFLICT (bucket) DO UPDATE
                    SET tat = GREATEST(b.tat, clock_timestamp())
                              + make_interval(secs => $6::float8)
                    WHERE b.tat <= clock_timestamp() + make_interval(secs => $7::float8)
                RETURNING true AS ahead
            ),
            taken AS ({_reservation(table, or_if="EXISTS (SELECT FROM went)")})
            SELECT (SELECT wait FROM taken) AS wait, EXISTS (SELECT FROM went) AS ahead
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
        self,
        bucket: str,
        rate_per_s: float,
        *,
        max_wait_s: float = UNBOUNDED_WAIT_S,
        ahead: Ahead | None = None,
        passable: bool = False,
    ) -> float:
        """Take ``bucket``'s next slot; return the seconds until it starts (0: now).

        Raises :class:`SlotTooFar` (reserving nothing) when the slot is more than
        ``max_wait_s`` away: the caller should retry later instead of holding a worker.
        ``ahead``: go ahead of a short queue of passable reservations when its share
        allows; ``passable``: callers with ``ahead`` may go ahead of this one (see the
        module's docstring). Callers asking meanwhile for the same bucket, rate, bound,
        ``ahead`` and ``passable`` share one statement, of which one caller at most goes
        ahead.
        """
        key = (bucket, self.interval_s(rate_per_s), max_wait_s, ahead, passable)
        return await self._groups.submit(key, None)

    async def _grant(self, key: _GroupKey, callers: list[None]) -> list[float | SlotTooFar]:
        """One slot per caller, in order: all of them if they fit within the bound, else
        as many as fit (one statement more) and :class:`SlotTooFar` for the rest."""
        bucket, interval, max_wait_s, ahead, passable = key
        if ahead is not None:
            went = await self._take_ahead(bucket, interval, max_wait_s, len(callers), ahead)
            if went is not None:
                return went
        granted = len(callers)
        first, next_in = await self._take(bucket, interval, max_wait_s, granted, passable)
        if first is None:
            fit = min(granted, _slots_within(next_in, interval, max_wait_s))
            if fit:
                # the refused callers' slots still count from where the queue ended
                first, _ = await self._take(bucket, interval, max_wait_s, fit, passable)
            granted = fit if first is not None else 0
        return [
            max(0.0, first + index * interval)
            if first is not None and index < granted
            # where its slot would be: after the ones granted before it (not sooner than
            # a slot's length: a caller waiting in line for the next one retries then)
            else SlotTooFar(max(min(0.05, interval), next_in + index * interval - max_wait_s))
            for index in range(len(callers))
        ]

    async def _take(
        self, bucket: str, interval: float, max_wait_s: float, count: int, passable: bool
    ) -> tuple[float | None, float]:
        """Reserve ``count`` consecutive slots (all or none): the seconds until the first,
        or None and the seconds until the bucket's next free slot (as a moment ago: a
        refusal's answer, so that it costs one round trip, not two)."""
        arguments: tuple[object, ...] = (bucket, interval, max_wait_s, count)
        if passable:
            row = await self._pool.fetchrow(
                self._passable_sql, *arguments, bucket + PASSABLE_SUFFIX
            )
        else:
            row = await self._pool.fetchrow(self._reserve_sql, *arguments)
        if row is None:  # refused (more than fit in reach), and the bucket has no row yet
            return None, 0.0
        if row["wait"] is None:
            return None, float(row["next_in"])
        return float(row["wait"]), 0.0

    async def _take_ahead(
        self, bucket: str, interval: float, max_wait_s: float, count: int, ahead: Ahead
    ) -> list[float | SlotTooFar] | None:
        """``count`` callers' slots, the first starting now if it may go ahead; None when
        nothing fit within ``max_wait_s`` (the caller then takes what fits)."""
        ahead_interval = interval / ahead.share
        row = await self._pool.fetchrow(
            self._ahead_sql,
            bucket,
            interval,
            max_wait_s,
            count,
            bucket + AHEAD_SUFFIX,
            ahead_interval,
            (ahead.burst - 1) * ahead_interval,
            ahead.within_s,
            bucket + PASSABLE_SUFFIX,
        )
        if row is None or row["wait"] is None:
            return None
        first = float(row["wait"])
        if not row["ahead"]:
            return [max(0.0, first + index * interval) for index in range(count)]
        # the first starts now; the rest take the queue's slots, the last one left empty
        return [0.0, *(max(0.0, first + index * interval) for index in range(count - 1))]

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


def _reservation(table: str, *, or_if: str = "false") -> str:
    """The statement that reserves ``$4`` consecutive slots of ``$2`` seconds in bucket
    ``$1``, all or none, the last starting within ``$3`` seconds (or whenever ``or_if``
    holds); it returns the seconds until the first starts (``wait``) and the bucket's new
    ``tat``, and no row when nothing was reserved.

    It commits without waiting for its WAL flush (``synchronous_commit`` off for this
    transaction only): every slot of a bucket updates the same row, so with a
    synchronous commit the row lock is held through an fsync and a busy bucket runs at
    the disk's flush rate. What a database crash can lose is the last fraction of a
    second of reserved slots: after recovery a few slots may be handed out twice, a
    burst of at most that fraction of a second at the provider, which answers it with a
    429 that callers already retry.
    """
    return f"""
        INSERT INTO {table} AS b (bucket, tat)
        SELECT $1, clock_timestamp() + make_interval(secs => $2::float8 * $4::int)
        FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit
        WHERE $2::float8 * ($4::int - 1) <= $3::float8
        ON CONFLICT (bucket) DO UPDATE
            SET tat = GREATEST(b.tat, clock_timestamp())
                      + make_interval(secs => $2::float8 * $4::int)
            WHERE {or_if}
               OR GREATEST(b.tat, clock_timestamp())
                  + make_interval(secs => $2::float8 * ($4::int - 1))
                  <= clock_timestamp() + make_interval(secs => $3::float8)
        RETURNING EXTRACT(EPOCH FROM (b.tat - clock_timestamp()))::float8
                  - $2::float8 * $4::int AS wait, b.tat AS tat
        """  # noqa: S608 - the table name is checked by SharedRateLimiter


def _wait_or_next_in(table: str) -> str:
    """The end of a statement whose ``taken`` CTE is :func:`_reservation`: the reserved
    slot's ``wait``, or, when nothing was reserved, ``next_in``: seconds until the
    bucket's next free slot in the statement's snapshot."""
    return f"""
        SELECT wait, 0::float8 AS next_in FROM taken
        UNION ALL
        SELECT NULL, GREATEST(EXTRACT(EPOCH FROM (b.tat - clock_timestamp()))::float8, 0)
        FROM {table} b WHERE b.bucket = $1 AND NOT EXISTS (SELECT FROM taken)
        """  # noqa: S608 - the table name is checked by SharedRateLimiter


def _slots_within(next_in: float, interval: float, max_wait_s: float) -> int:
    """How many consecutive slots, the first ``next_in`` seconds away, start within
    ``max_wait_s``."""
    if next_in > max_wait_s:
        return 0
    return int((max_wait_s - next_in) // interval) + 1
