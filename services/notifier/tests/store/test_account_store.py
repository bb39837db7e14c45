"""Channel accounts: credentials only ever stored encrypted; rotation; status flags."""

from __future__ import annotations

import asyncio
import base64

import asyncpg
import pytest
from pydantic import SecretStr

from cauce_contracts.subjects import Channel
from cauce_notifier.accounts_model import (
    ChattigoCredentials,
    WhatsAppCredentials,
    YCloudCredentials,
)
from cauce_notifier.store.accounts import AccountStore, CredentialsMismatch, DuplicateAccount
from cauce_runtime.credentials import CredentialsCipher

TOKEN = "EAAGm0PX4ZCpsBA-graph-token-9f8e7d6c5b4a"
PASSWORD = "chattigo-pa55word-xyz"
API_KEY = "ycloud-api-key-0a1b2c3d4e5f"


async def raw_rows(pool: asyncpg.Pool) -> bytes:
    """Every stored byte of every account row, as one blob to search."""
    rows = await pool.fetch("SELECT * FROM notifier.channel_accounts")
    return b"".join(
        bytes(value) if isinstance(value, (bytes, memoryview)) else str(value).encode()
        for row in rows
        for value in row.values()
    )


async def test_credentials_are_stored_encrypted_only(
    pool: asyncpg.Pool, cipher: CredentialsCipher
) -> None:
    store = AccountStore(pool, cipher)
    whatsapp = await store.create(
        tenant_id="acme",
        channel=Channel.WHATSAPP,
        account_id="734053143122597",
        credentials=WhatsAppCredentials(access_token=SecretStr(TOKEN)),
        display_name="Acme WA",
    )
    await store.create(
        tenant_id="acme",
        channel=Channel.CHATTIGO,
        account_id="5492644710400",
        credentials=ChattigoCredentials(username="acme-bot", password=SecretStr(PASSWORD)),
    )
    await store.create(
        tenant_id="other",
        channel=Channel.YCLOUD,
        account_id="573105550100",
        credentials=YCloudCredentials(api_key=SecretStr(API_KEY)),
        rate_per_second=20,
    )
    stored = await raw_rows(pool)
    for secret in (TOKEN, PASSWORD, API_KEY):
        assert secret.encode() not in stored
        assert base64.b64encode(secret.encode()) not in stored
    assert b"acme-bot" in stored  # the non-secret username is in the summary

    found = await store.find(Channel.WHATSAPP, "734053143122597")
    assert found is not None and found.id == whatsapp.id
    assert isinstance(found.credentials, WhatsAppCredentials)
    assert found.credentials.access_token.get_secret_value() == TOKEN
    assert found.rate_per_second == 80.0
    assert [a.account_id for a in await store.list("other")] == ["573105550100"]
    assert len(await store.list()) == 3
    info = await store.info(whatsapp.id)
    assert info is not None
    assert info.credentials_summary == {"fields_set": ["access_token"]}
    assert TOKEN not in repr(info) and TOKEN not in repr(found)


async def test_duplicate_and_mismatched_credentials(
    pool: asyncpg.Pool, cipher: CredentialsCipher
) -> None:
    store = AccountStore(pool, cipher)
    creds = WhatsAppCredentials(access_token=SecretStr(TOKEN))
    await store.create(tenant_id="a", channel=Channel.WHATSAPP, account_id="1", credentials=creds)
    with pytest.raises(DuplicateAccount):
        await store.create(
            tenant_id="b", channel=Channel.WHATSAPP, account_id="1", credentials=creds
        )
    with pytest.raises(CredentialsMismatch):
        await store.create(tenant_id="a", channel=Channel.YCLOUD, account_id="1", credentials=creds)


async def test_rotate_credentials_and_failing_flag(
    pool: asyncpg.Pool, cipher: CredentialsCipher
) -> None:
    store = AccountStore(pool, cipher)
    account = await store.create(
        tenant_id="a",
        channel=Channel.YCLOUD,
        account_id="573105550100",
        credentials=YCloudCredentials(api_key=SecretStr(API_KEY)),
    )
    before = await store.info(account.id)
    assert await store.mark_credentials_failing(account.id, "190 token expired")
    failing = await store.info(account.id)
    assert failing is not None and failing.credentials_status == "failing"
    assert failing.credentials_error == "190 token expired"
    assert failing.credentials_failed_at is not None

    rotated = await store.rotate_credentials(
        account.id, YCloudCredentials(api_key=SecretStr("new-key-123456"))
    )
    assert rotated is not None and rotated.credentials_status == "ok"
    assert isinstance(rotated.credentials, YCloudCredentials)
    assert rotated.credentials.api_key.get_secret_value() == "new-key-123456"
    after = await store.info(account.id)
    assert before is not None and after is not None
    assert after.credentials_fingerprint != before.credentials_fingerprint
    assert after.credentials_error is None
    assert API_KEY.encode() not in await raw_rows(pool)

    assert await store.mark_credentials_failing(account.id, "401")
    assert await store.mark_ok(account.id)
    assert not await store.mark_ok(account.id)  # already ok: nothing to clear

    updated = await store.update(account.id, rate_per_second=12.5, display_name="YC")
    assert updated is not None and updated.rate_per_second == 12.5
    assert updated.display_name == "YC"
    assert await store.delete(account.id)
    assert not await store.delete(account.id)
    assert await store.get(account.id) is None


async def test_reencrypt_all_moves_rows_to_the_active_key(pool: asyncpg.Pool) -> None:
    old = CredentialsCipher.from_settings({"k1": base64.b64encode(b"1" * 32).decode()}, "k1")
    account = await AccountStore(pool, old).create(
        tenant_id="a",
        channel=Channel.WHATSAPP,
        account_id="42",
        credentials=WhatsAppCredentials(access_token=SecretStr(TOKEN)),
    )
    ring = CredentialsCipher.from_settings(
        {"k1": base64.b64encode(b"1" * 32).decode(), "k2": base64.b64encode(b"2" * 32).decode()},
        "k2",
    )
    store = AccountStore(pool, ring)
    assert await store.reencrypt_all() == 1
    assert await store.reencrypt_all() == 0
    row = await pool.fetchrow(
        "SELECT credentials_key_id FROM notifier.channel_accounts WHERE id = $1", account.id
    )
    assert row["credentials_key_id"] == "k2"
    # the old key can go now
    only_new = CredentialsCipher.from_settings({"k2": base64.b64encode(b"2" * 32).decode()}, "k2")
    again = await AccountStore(pool, only_new).get(account.id)
    assert again is not None
    assert isinstance(again.credentials, WhatsAppCredentials)
    assert again.credentials.access_token.get_secret_value() == TOKEN


async def test_find_reuses_an_account_until_a_write_or_the_ttl(
    pool: asyncpg.Pool, cipher: CredentialsCipher
) -> None:
    sender = AccountStore(pool, cipher, cache_ttl_s=300)
    elsewhere = AccountStore(pool, cipher)  # another replica's store
    assert await sender.find(Channel.WHATSAPP, "734053143122597") is None
    created = await elsewhere.create(
        tenant_id="acme",
        channel=Channel.WHATSAPP,
        account_id="734053143122597",
        credentials=WhatsAppCredentials(access_token=SecretStr(TOKEN)),
    )
    # the miss is remembered too: another replica's change shows after the TTL only
    assert await sender.find(Channel.WHATSAPP, "734053143122597") is None
    await sender.mark_ok(created.id)  # any write through this store forgets what it found
    found = await sender.find(Channel.WHATSAPP, "734053143122597")
    assert found is not None and found.credentials_status == "ok"
    await elsewhere.mark_credentials_failing(created.id, "190")
    cached = await sender.find(Channel.WHATSAPP, "734053143122597")
    assert cached is not None and cached.credentials_status == "ok"
    await sender.mark_credentials_failing(created.id, "190")
    fresh = await sender.find(Channel.WHATSAPP, "734053143122597")
    assert fresh is not None and fresh.credentials_status == "failing"

    expiring = AccountStore(pool, cipher, cache_ttl_s=0.2)
    assert (await expiring.find(Channel.WHATSAPP, "734053143122597")) is not None
    await elsewhere.delete(created.id)
    assert (await expiring.find(Channel.WHATSAPP, "734053143122597")) is not None
    await asyncio.sleep(0.3)
    assert await expiring.find(Channel.WHATSAPP, "734053143122597") is None
