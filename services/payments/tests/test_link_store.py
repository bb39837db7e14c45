"""The link store's claim: one caller per key at a time, abandoned calls become uncertain."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from cauce_payments.sci_total import CreatedTransaction
from cauce_payments.store import ClaimKind, LinkStore, migrate

from .conftest import TENANT, link_request


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[LinkStore]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    try:
        assert await migrate(pool) == [1]
        assert await migrate(pool) == []
        yield LinkStore(pool)
    finally:
        await pool.close()


async def test_concurrent_claims_let_one_caller_through(store: LinkStore) -> None:
    claims = await asyncio.gather(*(store.claim(link_request(), 30) for _ in range(4)))
    kinds = sorted(claim.kind for claim in claims)
    assert kinds == [ClaimKind.BUSY, ClaimKind.BUSY, ClaimKind.BUSY, ClaimKind.CALL]
    assert all(0 < claim.wait_s <= 30 for claim in claims if claim.kind is ClaimKind.BUSY)


async def test_an_abandoned_call_becomes_uncertain(store: LinkStore) -> None:
    # A zero lease: the caller "died" the moment it claimed.
    assert (await store.claim(link_request(), 0)).kind is ClaimKind.CALL
    claim = await store.claim(link_request(), 30)
    assert claim.kind is ClaimKind.UNCERTAIN
    assert claim.record.provider_code == "outcome_unknown"
    assert (await store.claim(link_request(), 30)).kind is ClaimKind.UNCERTAIN
    assert await store.release_uncertain(TENANT, link_request().request_key)
    again = await store.claim(link_request(), 30)
    assert again.kind is ClaimKind.CALL and again.record.sci_calls == 2


async def test_failed_is_claimable_created_is_final(store: LinkStore) -> None:
    key = link_request().request_key
    await store.claim(link_request(), 30)
    await store.mark_failed(TENANT, key, reason="down", provider_code="http_503", retryable=True)
    assert (await store.claim(link_request(), 30)).kind is ClaimKind.CALL
    tx = CreatedTransaction("40037", "http://sandbox/sci/pay/40037", "40037", 1, 2, "127-1")
    await store.mark_created(TENANT, key, tx)
    claim = await store.claim(link_request(), 30)
    assert claim.kind is ClaimKind.CREATED and claim.record.created() == tx
    # A late failure report cannot overwrite the created link.
    await store.mark_failed(TENANT, key, reason="late", provider_code="x", retryable=True)
    assert (await store.claim(link_request(), 30)).kind is ClaimKind.CREATED
