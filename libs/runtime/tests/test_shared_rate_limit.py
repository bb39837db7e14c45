"""The shared GCRA limiter on a real PostgreSQL: slots one interval apart per bucket,
buckets independent, a slot too far away reserved for nobody."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from cauce_runtime.postgres import SharedRateLimiter, SlotTooFar


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
