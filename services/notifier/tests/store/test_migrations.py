"""Migrations: idempotent, and safe when replicas start together."""

from __future__ import annotations

import asyncio

import asyncpg

from cauce_notifier.store.migrations import MIGRATIONS, migrate


async def test_migrate_twice_applies_once(database_url: str) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        assert await migrate(pool) == [version for version, _ in MIGRATIONS]
        assert await migrate(pool) == []
        tables = {
            row["table_name"]
            for row in await pool.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'notifier'"
            )
        }
    finally:
        await pool.close()
    assert {
        "schema_migrations",
        "channel_accounts",
        "messages",
        "message_status_history",
        "contact_windows",
        "rate_buckets",
        "pair_backoff",
    } <= tables


async def test_concurrent_replicas_migrate_without_error(database_url: str) -> None:
    pools = [await asyncpg.create_pool(database_url, min_size=1, max_size=1) for _ in range(3)]
    try:
        results = await asyncio.gather(*(migrate(pool) for pool in pools))
        versions = await pools[0].fetch(
            "SELECT version, count(*) AS n FROM notifier.schema_migrations GROUP BY version"
        )
    finally:
        for pool in pools:
            await pool.close()
    applied = [result for result in results if result]
    assert applied == [[version for version, _ in MIGRATIONS]]
    assert sorted(row["version"] for row in versions) == [v for v, _ in MIGRATIONS]
    assert all(row["n"] == 1 for row in versions)
