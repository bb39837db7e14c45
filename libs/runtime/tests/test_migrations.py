"""The shared migration runner: ordered, idempotent, atomic, safe for concurrent replicas."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from cauce_runtime.postgres import (
    MigrationError,
    apply_migrations,
    current_version,
    migration_lock_key,
)

V1 = "CREATE TABLE {s}.things (id integer PRIMARY KEY);"
V2 = "ALTER TABLE {s}.things ADD COLUMN name text;"


@pytest.fixture
async def pool(postgres_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(postgres_url, min_size=1, max_size=4)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
def schema() -> str:
    return f"mig_{uuid.uuid4().hex[:10]}"


async def test_applies_in_order_once_and_then_only_new_ones(
    pool: asyncpg.Pool, schema: str
) -> None:
    assert await current_version(pool, schema) is None
    assert await apply_migrations(pool, schema, [(1, V1.format(s=schema))]) == [1]
    assert await apply_migrations(pool, schema, [(1, V1.format(s=schema))]) == []
    both = [(1, V1.format(s=schema)), (2, V2.format(s=schema))]
    assert await apply_migrations(pool, schema, both) == [2]
    assert await current_version(pool, schema) == 2
    await pool.execute(f"INSERT INTO {schema}.things (id, name) VALUES (1, 'x')")  # noqa: S608


async def test_a_failing_migration_leaves_nothing_behind(pool: asyncpg.Pool, schema: str) -> None:
    broken = [(1, V1.format(s=schema)), (2, "ALTER TABLE nowhere.nothing ADD COLUMN x int;")]
    with pytest.raises(asyncpg.PostgresError):
        await apply_migrations(pool, schema, broken)
    assert await current_version(pool, schema) is None
    assert await pool.fetchval("SELECT to_regclass($1)", f"{schema}.things") is None


async def test_concurrent_replicas_apply_each_version_once(postgres_url: str, schema: str) -> None:
    migrations = [(1, V1.format(s=schema)), (2, V2.format(s=schema))]
    pools = [await asyncpg.create_pool(postgres_url, min_size=1, max_size=1) for _ in range(3)]
    try:
        results = await asyncio.gather(*(apply_migrations(p, schema, migrations) for p in pools))
        rows = await pools[0].fetch(f"SELECT version FROM {schema}.schema_migrations")  # noqa: S608
    finally:
        for p in pools:
            await p.close()
    assert [r for r in results if r] == [[1, 2]]
    assert sorted(row["version"] for row in rows) == [1, 2]


@pytest.mark.parametrize(
    ("schema_name", "migrations"),
    [
        ("bad-name", [(1, "SELECT 1")]),
        ("x; DROP SCHEMA public", [(1, "SELECT 1")]),
        ("ok", [(2, "SELECT 1"), (1, "SELECT 1")]),
        ("ok", [(1, "SELECT 1"), (1, "SELECT 1")]),
        ("ok", [(0, "SELECT 1")]),
    ],
)
async def test_malformed_input_is_refused_before_touching_the_database(
    schema_name: str, migrations: list[tuple[int, str]]
) -> None:
    with pytest.raises(MigrationError):
        await apply_migrations(object(), schema_name, migrations)


def test_lock_keys_differ_per_schema_and_are_stable() -> None:
    assert migration_lock_key("payments") == migration_lock_key("payments")
    assert migration_lock_key("payments") != migration_lock_key("notifier")
    assert -(2**63) <= migration_lock_key("payments") < 2**63
