"""A value PostgreSQL refuses is the request's fault: 422 problem+json, not a 500.

Found by the operator-API suite (tests/hostile): a NUL character in a channel's name
and a dead letter's id past int64 reached PostgreSQL and came back as server errors.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from fastapi import APIRouter

from cauce_runtime import ServiceSettings, create_service_app

from .test_app import running


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    await pool.execute("CREATE TABLE notes (id bigint PRIMARY KEY, body text)")
    try:
        yield pool
    finally:
        await pool.close()


async def test_text_with_nul_and_numbers_past_int64_are_422(
    settings: ServiceSettings, pool: asyncpg.Pool
) -> None:
    router = APIRouter()

    @router.post("/notes/{note_id}")
    async def write(note_id: int, body: str) -> dict[str, str]:
        await pool.execute("INSERT INTO notes VALUES ($1, $2)", note_id, body)
        return {"status": "stored"}

    app = create_service_app(settings, bus=None, routers=[router])
    async with running(app) as client:
        fine = await client.post("/notes/1", params={"body": "hola"})
        nul = await client.post("/notes/2", params={"body": "ho\x00la"})
        huge = await client.post(f"/notes/{2**70}", params={"body": "hola"})
    assert fine.status_code == 200
    for answer in (nul, huge):
        assert answer.status_code == 422
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["type"].endswith("/unstorable-value")
        problem = answer.json()
        assert "\x00" not in answer.text  # the value is not echoed
        assert str(2**70) not in problem["detail"] + problem["title"]
