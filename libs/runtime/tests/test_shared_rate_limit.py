"""The shared GCRA limiter on a real PostgreSQL: slots one interval apart per bucket,
buckets independent, a slot too far away reserved for nobody, callers asking together
served by one statement."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from cauce_runtime.postgres import Ahead, SharedRateLimiter, SlotTooFar


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    created = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    await created.execute(
        "CREATE SCHEMA t;"
        " CREATE TABLE t.rate_buckets (bucket text PRIMARY KEY, tat timestamptz NOT NULL)"
    )
    try:
        yield created
    finally:
        await created.close()


async def test_slots_of_a_bucket_are_one_interval_apart(pool: asyncpg.Pool) -> None:
    limiter = SharedRateLimiter(pool, "t.rate_buckets")
    # One slot per 100 s: the intervals dwarf the time the calls themselves take.
    waits = [await limiter.reserve("a", 0.01) for _ in range(3)]

    assert waits[0] == 0.0
    assert 99 < waits[1] <= 100
    assert 199 < waits[2] <= 200
    assert await limiter.reserve("b", 0.01) == 0.0  # another bucket is free
    assert 299 < await limiter.next_slot_in("a") <= 300


async def test_a_slot_beyond_max_wait_is_refused_and_not_reserved(pool: asyncpg.Pool) -> None:
    limiter = SharedRateLimiter(pool, "t.rate_buckets")
    await limiter.reserve("slow", 0.01)  # next slot in 100 s
    before = await limiter.next_slot_in("slow")

    with pytest.raises(SlotTooFar) as refused:
        await limiter.reserve("slow", 0.01, max_wait_s=10)

    assert 89 < refused.value.retry_in_s <= 90
    assert await limiter.next_slot_in("slow") <= before  # nothing was reserved


async def test_headroom_widens_the_interval_and_names_are_checked(pool: asyncpg.Pool) -> None:
    assert SharedRateLimiter(pool, "t.rate_buckets", headroom=0.5).interval_s(10.0) == 0.2
    with pytest.raises(ValueError, match=r"schema\.table"):
        SharedRateLimiter(pool, "rate_buckets; DROP TABLE x")


async def test_only_the_reservation_commits_asynchronously(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as connection:
        limiter = SharedRateLimiter(connection, "t.rate_buckets")
        await limiter.reserve("a", 0.01)
        # the setting was local to the reservation's transaction: other work on the same
        # connection still waits for its commit to be durable
        assert await connection.fetchval("SHOW synchronous_commit") == "on"
        # which is why callers reserve outside their own transactions: inside one, the
        # whole transaction would commit asynchronously
        async with connection.transaction():
            await limiter.reserve("b", 0.01)
            assert await connection.fetchval("SHOW synchronous_commit") == "off"
        assert await connection.fetchval("SHOW synchronous_commit") == "on"


class CountingPool:
    """The pool, counting the statements the limiter sends through it."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.statements = 0

    async def fetchval(self, query: str, *args: object) -> object:
        self.statements += 1
        return await self.pool.fetchval(query, *args)

    async def fetchrow(self, query: str, *args: object) -> object:
        self.statements += 1
        return await self.pool.fetchrow(query, *args)


async def test_callers_asking_together_share_a_statement_and_get_one_slot_each(
    pool: asyncpg.Pool,
) -> None:
    counting = CountingPool(pool)
    limiter = SharedRateLimiter(counting, "t.rate_buckets")

    waits = sorted(await asyncio.gather(*(limiter.reserve("a", 0.01) for _ in range(6))))

    # one slot each, 100 s apart, as six reservations one after another would give
    assert waits[0] == 0.0
    for index, wait in enumerate(waits[1:], start=1):
        assert index * 100 - 1 < wait <= index * 100
    assert counting.statements < 6
    assert 599 < await limiter.next_slot_in("a") <= 600


async def test_a_group_that_does_not_all_fit_gets_the_slots_that_do(pool: asyncpg.Pool) -> None:
    limiter = SharedRateLimiter(pool, "t.rate_buckets")
    await limiter.reserve("g", 0.01)  # the next slot is 100 s away

    outcomes = await asyncio.gather(
        *(limiter.reserve("g", 0.01, max_wait_s=350) for _ in range(5)), return_exceptions=True
    )

    granted = sorted(o for o in outcomes if isinstance(o, float))
    refused = sorted(o.retry_in_s for o in outcomes if isinstance(o, SlotTooFar))
    # slots at 100, 200 and 300 s fit within 350; 400 and 500 do not
    assert [round(w, -1) for w in granted] == [100, 200, 300]
    assert [round(r, -1) for r in refused] == [50, 150]
    assert 399 < await limiter.next_slot_in("g") <= 400  # only the granted were taken


async def test_a_refused_reservation_costs_one_statement(pool: asyncpg.Pool) -> None:
    counting = CountingPool(pool)
    limiter = SharedRateLimiter(counting, "t.rate_buckets")
    await limiter.reserve("r", 0.01)  # the next slot is 100 s away
    before = counting.statements

    with pytest.raises(SlotTooFar) as refused:
        await limiter.reserve("r", 0.01, max_wait_s=30)

    # its answer says when the slot comes within reach, without asking again
    assert counting.statements == before + 1
    assert 69 < refused.value.retry_in_s <= 70


async def test_a_failing_reservation_fails_every_caller_of_its_group(pool: asyncpg.Pool) -> None:
    limiter = SharedRateLimiter(pool, "t.no_such_table")

    outcomes = await asyncio.gather(
        *(limiter.reserve("a", 1.0) for _ in range(3)), return_exceptions=True
    )

    assert all(isinstance(o, asyncpg.UndefinedTableError) for o in outcomes)
    # and the limiter is not stuck: the next caller gets its own answer
    with pytest.raises(asyncpg.UndefinedTableError):
        await limiter.reserve("a", 1.0)


#: One slot per 100 s; ahead of a queue whose last slot starts within 150 s, at half the
#: rate, one at once.
AHEAD = Ahead(share=0.5, within_s=150, burst=1)


async def test_a_caller_goes_ahead_of_a_short_queue_and_leaves_its_last_slot_empty(
    pool: asyncpg.Pool,
) -> None:
    limiter = SharedRateLimiter(pool, "t.rate_buckets")
    await limiter.reserve("q", 0.01, passable=True)  # queued: the next slot is 100 s away

    assert await limiter.reserve("q", 0.01, ahead=AHEAD) == 0.0  # starts now
    # it still took a slot of the queue, so the bucket's rate holds: the next is at 200 s
    assert 199 < await limiter.next_slot_in("q") <= 200
    # the ahead bucket's one slot is used for 200 s: the next caller waits in the queue
    assert 199 < await limiter.reserve("q", 0.01, ahead=AHEAD) <= 200


async def test_a_queue_longer_than_within_s_is_not_jumped(pool: asyncpg.Pool) -> None:
    limiter = SharedRateLimiter(pool, "t.rate_buckets")
    for _ in range(3):
        # the queue's last slot starts in 200 s, not within 150
        await limiter.reserve("long", 0.01, passable=True)

    assert 299 < await limiter.reserve("long", 0.01, ahead=AHEAD) <= 300


async def test_a_free_bucket_does_not_spend_the_ahead_share(pool: asyncpg.Pool) -> None:
    limiter = SharedRateLimiter(pool, "t.rate_buckets")

    assert await limiter.reserve("free", 0.01, ahead=AHEAD) == 0.0  # free: its own slot
    await limiter.reserve("free", 0.01, passable=True)  # a passable one queues behind
    # the ahead share is untouched, so the next caller goes ahead of that queue
    assert await limiter.reserve("free", 0.01, ahead=AHEAD) == 0.0
    assert 299 < await limiter.next_slot_in("free") <= 300


async def test_of_callers_asking_together_one_goes_ahead_and_the_rest_queue(
    pool: asyncpg.Pool,
) -> None:
    limiter = SharedRateLimiter(pool, "t.rate_buckets")
    await limiter.reserve("group", 0.01, passable=True)  # the next slot is 100 s away

    waits = sorted(
        await asyncio.gather(*(limiter.reserve("group", 0.01, ahead=AHEAD) for _ in range(3)))
    )

    assert waits[0] == 0.0
    assert [round(w, -1) for w in waits[1:]] == [100, 200]
    assert 399 < await limiter.next_slot_in("group") <= 400  # three slots taken


async def test_a_queue_that_ends_in_a_reservation_not_passable_is_not_jumped(
    pool: asyncpg.Pool,
) -> None:
    limiter = SharedRateLimiter(pool, "t.rate_buckets")
    await limiter.reserve("mixed", 0.01, passable=True)
    await limiter.reserve("mixed", 0.01)  # then one that keeps its place: 200 s queued

    waits = [await limiter.reserve("mixed", 0.01, ahead=Ahead(0.5, 250, 1)) for _ in range(2)]

    assert [round(w, -1) for w in waits] == [200, 300]  # in turn, behind it


async def test_ahead_is_checked() -> None:
    with pytest.raises(ValueError, match="share"):
        Ahead(share=0, within_s=1)
