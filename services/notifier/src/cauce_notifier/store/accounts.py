"""Channel accounts and their credentials, stored encrypted (``notifier.channel_accounts``).

Credentials go in as a pydantic model, are serialised to JSON with their secrets
revealed, and are written ONLY as an AES-GCM blob bound to ``f"{channel}:{account_id}"``
(see :mod:`cauce_notifier.credentials`). Next to the blob the row keeps a keyed
fingerprint and a non-secret summary (which fields are set, Chattigo's username and
bot name), so listing accounts for an operator never decrypts anything.
"""

from __future__ import annotations

import builtins
import functools
import json
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Concatenate, Literal, ParamSpec, TypeVar, cast

import asyncpg
from cachetools import TTLCache
from pydantic import BaseModel, SecretStr

from cauce_contracts.subjects import Channel
from cauce_notifier.accounts_model import (
    CREDENTIALS_MODELS,
    ChannelAccount,
    Credentials,
    sending_channel,
)
from cauce_runtime.credentials import CredentialsCipher

DEFAULT_RATE_PER_SECOND = 80.0
P = ParamSpec("P")
R = TypeVar("R")


class DuplicateAccount(Exception):
    """An account with this channel and account id already exists."""


class CredentialsMismatch(ValueError):
    """The credentials given are not the kind the account's channel takes."""


@dataclass(frozen=True)
class AccountInfo:
    """What an operator may see of an account: everything except the secrets."""

    id: uuid.UUID
    tenant_id: str
    channel: Channel
    account_id: str
    display_name: str | None
    rate_per_second: float
    credentials_status: Literal["ok", "failing"]
    business_account_id: str | None
    credentials_error: str | None
    credentials_failed_at: datetime | None
    credentials_key_id: str
    credentials_fingerprint: str
    #: ``{"fields_set": [...], ...non-secret fields}``.
    credentials_summary: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    #: Chattigo accounts made through the API: SHA-256 of their webhook URL token.
    webhook_token_sha256: str | None = None


def _aad(channel: str, account_id: str) -> bytes:
    return f"{channel}:{account_id}".encode()


def _reveal(credentials: BaseModel) -> bytes:
    """Canonical JSON of the credentials with their secrets in clear (for encryption only)."""
    values = {
        name: value.get_secret_value() if isinstance(value, SecretStr) else value
        for name, value in credentials
    }
    return json.dumps(values, sort_keys=True, separators=(",", ":")).encode()


def _summary(credentials: BaseModel) -> dict[str, Any]:
    summary: dict[str, Any] = {"fields_set": sorted(type(credentials).model_fields)}
    for name, value in credentials:
        if not isinstance(value, SecretStr):
            summary[name] = value
    return summary


def _writes(
    method: Callable[Concatenate[AccountStore, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[AccountStore, P], Coroutine[Any, Any, R]]:
    """A write: the :meth:`AccountStore.find` cache is emptied once it is done."""

    @functools.wraps(method)
    async def write(store: AccountStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(store, *args, **kwargs)
        finally:
            store._forget()

    return write


def _check_kind(channel: Channel, credentials: Credentials) -> None:
    expected = CREDENTIALS_MODELS[channel]
    if type(credentials) is not expected:
        raise CredentialsMismatch(
            f"{channel.value} accounts take {expected.__name__}, got {type(credentials).__name__}"
        )


class AccountStore:
    """Repository of :class:`ChannelAccount` rows; decrypts on read, encrypts on write.

    :meth:`find` (the lookup on every send) keeps what it found for ``cache_ttl_s``
    seconds: a row read and decrypted per message was a round trip and an AES-GCM
    decryption per send. Every write through this store empties the cache, so this
    replica sees its own changes at once; another replica's change (a rotation through
    its admin API, credentials marked failing there) is seen within ``cache_ttl_s``.
    """

    def __init__(
        self, pool: asyncpg.Pool, cipher: CredentialsCipher, *, cache_ttl_s: float = 0.0
    ) -> None:
        self._pool = pool
        self._cipher = cipher
        self._found: TTLCache[tuple[str, str], ChannelAccount | None] | None = (
            TTLCache(maxsize=4096, ttl=cache_ttl_s) if cache_ttl_s > 0 else None
        )

    def _forget(self) -> None:
        if self._found is not None:
            self._found.clear()

    # --- reading ----------------------------------------------------------------------

    def _account(self, row: asyncpg.Record) -> ChannelAccount:
        channel = Channel(row["channel"])
        plaintext = self._cipher.decrypt(
            bytes(row["credentials"]), _aad(row["channel"], row["account_id"])
        )
        model = CREDENTIALS_MODELS[channel]
        return ChannelAccount(
            id=row["id"],
            tenant_id=row["tenant_id"],
            channel=channel,
            account_id=row["account_id"],
            display_name=row["display_name"],
            rate_per_second=float(row["rate_per_second"]),
            credentials=cast(Credentials, model.model_validate_json(plaintext)),
            credentials_status=row["credentials_status"],
            business_account_id=row["business_account_id"],
        )

    @staticmethod
    def _info(row: asyncpg.Record) -> AccountInfo:
        return AccountInfo(
            id=row["id"],
            tenant_id=row["tenant_id"],
            channel=Channel(row["channel"]),
            account_id=row["account_id"],
            display_name=row["display_name"],
            rate_per_second=float(row["rate_per_second"]),
            credentials_status=row["credentials_status"],
            business_account_id=row["business_account_id"],
            credentials_error=row["credentials_error"],
            credentials_failed_at=row["credentials_failed_at"],
            credentials_key_id=row["credentials_key_id"],
            credentials_fingerprint=row["credentials_fingerprint"],
            credentials_summary=json.loads(row["credentials_summary"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            webhook_token_sha256=row["webhook_token_sha256"],
        )

    async def _row(self, account_id: uuid.UUID) -> asyncpg.Record | None:
        return await self._pool.fetchrow(
            "SELECT * FROM notifier.channel_accounts WHERE id = $1", account_id
        )

    async def get(self, account_id: uuid.UUID) -> ChannelAccount | None:
        """The account with its decrypted credentials, or None."""
        row = await self._row(account_id)
        return None if row is None else self._account(row)

    async def find(self, channel: Channel | str, account_id: str) -> ChannelAccount | None:
        """The account sending as ``account_id`` on ``channel`` (the delivery lookup)."""
        key = (str(channel), account_id)
        if self._found is not None and key in self._found:
            return self._found[key]
        row = await self._pool.fetchrow(
            "SELECT * FROM notifier.channel_accounts WHERE channel = $1 AND account_id = $2",
            *key,
        )
        account = None if row is None else self._account(row)
        if self._found is not None:
            self._found[key] = account
        return account

    async def list(self, tenant_id: str | None = None) -> builtins.list[ChannelAccount]:
        """All accounts (of one tenant when given), with decrypted credentials."""
        return [self._account(row) for row in await self._rows(tenant_id)]

    async def info(self, account_id: uuid.UUID) -> AccountInfo | None:
        """The account without secrets (nothing is decrypted)."""
        row = await self._row(account_id)
        return None if row is None else self._info(row)

    async def list_info(self, tenant_id: str | None = None) -> builtins.list[AccountInfo]:
        """All accounts (of one tenant when given) without secrets."""
        return [self._info(row) for row in await self._rows(tenant_id)]

    async def _rows(self, tenant_id: str | None) -> builtins.list[asyncpg.Record]:
        rows: builtins.list[asyncpg.Record] = await self._pool.fetch(
            "SELECT * FROM notifier.channel_accounts"
            " WHERE ($1::text IS NULL OR tenant_id = $1) ORDER BY created_at, id",
            tenant_id,
        )
        return rows

    # --- writing ----------------------------------------------------------------------

    def _sealed(
        self, channel: Channel, account_id: str, credentials: Credentials
    ) -> builtins.list[Any]:
        plaintext = _reveal(credentials)
        return [
            self._cipher.encrypt(plaintext, _aad(channel.value, account_id)),
            self._cipher.active_key_id,
            self._cipher.fingerprint(plaintext),
            json.dumps(_summary(credentials)),
        ]

    @_writes
    async def create(
        self,
        *,
        tenant_id: str,
        channel: Channel,
        account_id: str,
        credentials: Credentials,
        display_name: str | None = None,
        rate_per_second: float = DEFAULT_RATE_PER_SECOND,
        business_account_id: str | None = None,
        webhook_token_sha256: str | None = None,
    ) -> ChannelAccount:
        """Add an account; :class:`DuplicateAccount` if ``(channel, account_id)`` exists."""
        channel = sending_channel(channel)
        _check_kind(channel, credentials)
        try:
            row = await self._pool.fetchrow(
                "INSERT INTO notifier.channel_accounts"
                " (id, tenant_id, channel, account_id, display_name,"
                " rate_per_second, business_account_id, webhook_token_sha256, credentials,"
                " credentials_key_id, credentials_fingerprint, credentials_summary)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb) RETURNING *",
                uuid.uuid4(),
                tenant_id,
                channel.value,
                account_id,
                display_name,
                rate_per_second,
                business_account_id,
                webhook_token_sha256,
                *self._sealed(channel, account_id, credentials),
            )
        except asyncpg.UniqueViolationError as exc:
            raise DuplicateAccount(f"{channel.value} account already exists") from exc
        return self._account(row)

    @_writes
    async def rotate_credentials(
        self, account_id: uuid.UUID, credentials: Credentials
    ) -> ChannelAccount | None:
        """Replace the credentials (encrypted with the active key); status back to ok."""
        current = await self.info(account_id)
        if current is None:
            return None
        _check_kind(current.channel, credentials)
        row = await self._pool.fetchrow(
            "UPDATE notifier.channel_accounts SET credentials = $2, credentials_key_id = $3,"
            " credentials_fingerprint = $4, credentials_summary = $5::jsonb,"
            " credentials_status = 'ok', credentials_error = NULL,"
            " credentials_failed_at = NULL, updated_at = now()"
            " WHERE id = $1 RETURNING *",
            account_id,
            *self._sealed(current.channel, current.account_id, credentials),
        )
        return None if row is None else self._account(row)

    @_writes
    async def update(
        self,
        account_id: uuid.UUID,
        *,
        display_name: str | None = None,
        clear_display_name: bool = False,
        rate_per_second: float | None = None,
        business_account_id: str | None = None,
    ) -> AccountInfo | None:
        """Change the display name, the rate and/or the WABA; fields left None keep
        their value."""
        row = await self._pool.fetchrow(
            "UPDATE notifier.channel_accounts SET"
            " display_name = CASE WHEN $4 THEN NULL ELSE coalesce($2, display_name) END,"
            " rate_per_second = coalesce($3, rate_per_second),"
            " business_account_id = coalesce($5, business_account_id), updated_at = now()"
            " WHERE id = $1 RETURNING *",
            account_id,
            display_name,
            rate_per_second,
            clear_display_name,
            business_account_id,
        )
        return None if row is None else self._info(row)

    @_writes
    async def delete(self, account_id: uuid.UUID) -> bool:
        """Remove the account; False if there was none."""
        result: str = await self._pool.execute(
            "DELETE FROM notifier.channel_accounts WHERE id = $1", account_id
        )
        return result.endswith(" 1")

    @_writes
    async def mark_credentials_failing(self, account_id: uuid.UUID, error: str) -> bool:
        """The provider rejected the credentials (Meta 190, 401): flag until rotated or ok.

        ``credentials_failed_at`` keeps the first failure time of a streak.
        """
        result: str = await self._pool.execute(
            "UPDATE notifier.channel_accounts"
            " SET credentials_status = 'failing', credentials_error = $2,"
            " credentials_failed_at = coalesce(credentials_failed_at, now()), updated_at = now()"
            " WHERE id = $1",
            account_id,
            error,
        )
        return result.endswith(" 1")

    @_writes
    async def mark_ok(self, account_id: uuid.UUID) -> bool:
        """The credentials worked again: clear the failing flag."""
        result: str = await self._pool.execute(
            "UPDATE notifier.channel_accounts"
            " SET credentials_status = 'ok', credentials_error = NULL,"
            " credentials_failed_at = NULL, updated_at = now()"
            " WHERE id = $1 AND credentials_status <> 'ok'",
            account_id,
        )
        return result.endswith(" 1")

    @_writes
    async def reencrypt_all(self) -> int:
        """Re-encrypt every blob not under the active key; return how many were rewritten.

        Each row is rewritten only if its blob did not change meanwhile, so running this
        while an operator rotates credentials cannot resurrect the old secret.
        """
        rows = await self._pool.fetch(
            "SELECT id, channel, account_id, credentials FROM notifier.channel_accounts"
            " WHERE credentials_key_id <> $1",
            self._cipher.active_key_id,
        )
        rewritten = 0
        for row in rows:
            old = bytes(row["credentials"])
            new = self._cipher.reencrypt(old, _aad(row["channel"], row["account_id"]))
            result: str = await self._pool.execute(
                "UPDATE notifier.channel_accounts SET credentials = $2, credentials_key_id = $3"
                " WHERE id = $1 AND credentials = $4",
                row["id"],
                new,
                self._cipher.active_key_id,
                old,
            )
            rewritten += result.endswith(" 1")
        return rewritten
