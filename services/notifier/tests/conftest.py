"""Shared notifier test fixtures: a pool on the test's fresh database (the devstack
plugin's ``database_url``), migrated, and a credentials cipher."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import asyncpg
import pytest

from cauce_notifier.store.migrations import migrate
from cauce_runtime.credentials import CredentialsCipher

KEY_A = base64.b64encode(b"A" * 32).decode()
KEY_B = base64.b64encode(b"B" * 32).decode()


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    try:
        await migrate(pool)
        yield pool
    finally:
        await pool.close()


@pytest.fixture
def cipher() -> CredentialsCipher:
    return CredentialsCipher.from_settings({"k1": KEY_A}, "k1")
