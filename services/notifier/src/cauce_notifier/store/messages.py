"""Outbound messages and their status timeline (``notifier.messages`` and history).

A message's status only moves forward: ``requested < sent < delivered < read``.
``failed`` may replace requested, sent or delivered but never read, and nothing
replaces ``failed``. Status webhooks arrive out of order and more than once (read
before delivered, the same delivered twice): a status that is not ahead of the
current one is ignored, except that an earlier status's timestamp column is filled
in if still empty (a late ``delivered`` after ``read`` sets ``delivered_at``), so the
timeline stays complete without the status moving back. Each actual change appends
one row to ``message_status_history`` (unique per message and status).
"""

from __future__ import annotations

import base64
import binascii
import builtins
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Literal, cast

import asyncpg

from cauce_contracts.inbound import ProviderError as StatusError
from cauce_contracts.outbound import OutboundMessageRequested

MessageStatus = Literal["requested", "sent", "delivered", "read", "failed"]
#: Statuses a provider reports for a sent message.
ProviderStatus = Literal["sent", "delivered", "read", "failed"]

STATUS_RANK: dict[str, int] = {"requested": 0, "sent": 1, "delivered": 2, "read": 3}
_TIMESTAMP_COLUMN = {
    "sent": "sent_at",
    "delivered": "delivered_at",
    "read": "read_at",
    "failed": "failed_at",
}
MAX_PAGE = 500

# The timestamp column of a status, chosen in SQL so the statements stay literal.
_BACKFILL_TIMESTAMP = """
UPDATE notifier.messages SET
    sent_at = CASE WHEN $2 = 'sent' THEN coalesce(sent_at, $3) ELSE sent_at END,
    delivered_at = CASE WHEN $2 = 'delivered' THEN coalesce(delivered_at, $3) ELSE delivered_at END,
    read_at = CASE WHEN $2 = 'read' THEN coalesce(read_at, $3) ELSE read_at END,
    updated_at = now()
WHERE request_event_id = $1
"""
_ADVANCE_STATUS = """
UPDATE notifier.messages SET
    status = $2,
    sent_at = CASE WHEN $2 = 'sent' THEN $3 ELSE sent_at END,
    delivered_at = CASE WHEN $2 = 'delivered' THEN $3 ELSE delivered_at END,
    read_at = CASE WHEN $2 = 'read' THEN $3 ELSE read_at END,
    failed_at = CASE WHEN $2 = 'failed' THEN $3 ELSE failed_at END,
    error_code = coalesce($4, error_code),
    error_title = coalesce($5, error_title),
    retryable = CASE WHEN $2 = 'failed' THEN false ELSE retryable END,
    updated_at = now()
WHERE request_event_id = $1
RETURNING *
"""


class InvalidCursor(ValueError):
    """A pagination cursor that this store did not produce."""


@dataclass(frozen=True)
class MessageRecord:
    """One outbound message row. ``recipient`` is personal data: never log it."""

    request_event_id: uuid.UUID
    tenant_id: str
    channel: str
    channel_account_id: str
    contact_key: str
    recipient: str
    content_type: str
    content: dict[str, Any]
    reply_to_message_id: str | None
    degradation: str | None
    status: MessageStatus
    provider_message_id: str | None
    error_code: str | None
    error_title: str | None
    error_detail: str | None
    retryable: bool | None
    provider_attempts: int
    campaign_id: str | None
    correlation_id: str
    requested_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    failed_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True)
class StatusEntry:
    """One step of a message's timeline."""

    status: MessageStatus
    occurred_at: datetime
    recorded_at: datetime
    #: ``"notifier"`` (our send outcome) or ``"provider"`` (a status webhook).
    source: str
    detail: dict[str, Any] | None


@dataclass(frozen=True)
class StatusChange:
    """A status that moved the message forward (what ``outbound.message.status`` carries)."""

    message: MessageRecord
    previous_status: MessageStatus
    status: ProviderStatus
    occurred_at: datetime
    error_code: str | None = None
    error_title: str | None = None


@dataclass(frozen=True)
class Claim:
    """What :meth:`MessageStore.claim` found: the message is ours to send, already
    settled (sent or failed), or held by another worker for ``retry_in_s`` more."""

    claimed: bool
    settled: bool = False
    retry_in_s: float = 0.0


@dataclass(frozen=True)
class MessagePage:
    items: list[MessageRecord]
    #: Opaque; pass back as ``cursor`` for the next (older) page. None on the last page.
    next_cursor: str | None


_RECORD_FIELDS = [field.name for field in fields(MessageRecord)]


def _record(row: Mapping[str, Any]) -> MessageRecord:
    values = {name: row[name] for name in _RECORD_FIELDS}
    values["content"] = json.loads(values["content"])
    return MessageRecord(**values)


def _may_move(current: str, new: str) -> bool:
    if current == "failed" or current == new:
        return False
    if new == "failed":
        return current != "read"
    return STATUS_RANK[new] > STATUS_RANK[current]


def encode_cursor(requested_at: datetime, request_event_id: uuid.UUID) -> str:
    raw = json.dumps([requested_at.isoformat(), str(request_event_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, event_id = json.loads(raw)
        return datetime.fromisoformat(at), uuid.UUID(event_id)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidCursor("invalid cursor") from exc


class MessageStore:
    """Repository of outbound messages; every method is safe to repeat."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    # --- the send path ------------------------------------------------------------------

    async def record_requested(
        self, event: OutboundMessageRequested, degradation: str | None = None
    ) -> tuple[MessageRecord, bool]:
        """Insert the request once; ``(row, created)``: created False on a redelivery.

        On a redelivery the returned row tells what already happened (a set
        ``provider_message_id`` means the provider accepted it: do not send again).
        One statement (insert, history, or the existing row): this is on every send.
        """
        content = event.content.model_dump(mode="json")
        row = await self._pool.fetchrow(
            """
            WITH inserted AS (
                INSERT INTO notifier.messages (request_event_id, tenant_id, channel,
                    channel_account_id, contact_key, recipient, content_type, content,
                    reply_to_message_id, degradation, campaign_id, correlation_id, requested_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12, $13)
                ON CONFLICT (request_event_id) DO NOTHING
                RETURNING *
            ), history AS (
                INSERT INTO notifier.message_status_history
                    (request_event_id, status, occurred_at, source)
                SELECT request_event_id, 'requested', requested_at, 'notifier' FROM inserted
                ON CONFLICT (request_event_id, status) DO NOTHING
            )
            SELECT true AS created, * FROM inserted
            UNION ALL
            SELECT false AS created, * FROM notifier.messages
            WHERE request_event_id = $1 AND NOT EXISTS (SELECT 1 FROM inserted)
            """,
            event.event_id,
            event.tenant_id,
            event.channel.value,
            event.channel_account_id,
            event.contact_key,
            event.recipient,
            content["type"],
            json.dumps(content),
            event.reply_to_message_id,
            degradation,
            event.campaign_id,
            event.correlation_id,
            event.occurred_at,
        )
        assert row is not None
        fields = dict(row)
        created = bool(fields.pop("created"))
        return _record(fields), created

    async def record_sent(
        self,
        request_event_id: uuid.UUID,
        provider_message_id: str,
        sent_at: datetime,
        degradation: str | None = None,
    ) -> MessageRecord | None:
        """The provider accepted the message: store its id (first writer wins) and
        release the send claim, in one statement.

        Repeating it is harmless: a message that already has a provider id keeps it.
        A message a provider status webhook already moved past ``sent`` keeps its status.
        Returns the row as stored, or None when the request is unknown.
        """
        row = await self._pool.fetchrow(
            """
            WITH updated AS (
                UPDATE notifier.messages SET provider_message_id = $2,
                    status = CASE WHEN status IN ('requested', 'failed') THEN 'sent'
                             ELSE status END,
                    sent_at = coalesce(sent_at, $3), degradation = coalesce($4, degradation),
                    error_code = NULL, error_title = NULL, error_detail = NULL,
                    retryable = NULL, failed_at = NULL, claimed_until = NULL, updated_at = now()
                WHERE request_event_id = $1 AND provider_message_id IS NULL
                RETURNING *
            ), history AS (
                INSERT INTO notifier.message_status_history
                    (request_event_id, status, occurred_at, source)
                SELECT request_event_id, 'sent', $3, 'notifier' FROM updated
                ON CONFLICT (request_event_id, status) DO NOTHING
            )
            SELECT * FROM updated
            UNION ALL
            SELECT * FROM notifier.messages
            WHERE request_event_id = $1 AND NOT EXISTS (SELECT 1 FROM updated)
            """,
            request_event_id,
            provider_message_id,
            sent_at,
            degradation,
        )
        return None if row is None else _record(row)

    async def record_failed(
        self,
        request_event_id: uuid.UUID,
        code: str | None,
        title: str,
        retryable: bool,
        at: datetime,
        detail: str | None = None,
    ) -> MessageRecord | None:
        """Delivery to the provider failed for good (or retries ran out).

        Applies only to a message still ``requested``; a message the provider accepted
        is never marked failed by the send path. Returns the row as stored, or None.
        """
        async with self._pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(
                "UPDATE notifier.messages SET status = 'failed', error_code = $2, error_title = $3,"
                " retryable = $4, failed_at = $5, error_detail = $6, updated_at = now()"
                " WHERE request_event_id = $1 AND status = 'requested'"
                " RETURNING *",
                request_event_id,
                code,
                title,
                retryable,
                at,
                detail,
            )
            if row is not None:
                detail_json = {"code": code, "title": title, "retryable": retryable}
                await self._history(connection, request_event_id, "failed", at, detail=detail_json)
                return _record(row)
        return await self.get(request_event_id)

    async def claim(self, request_event_id: uuid.UUID, for_s: float) -> Claim:
        """Hold the message for one send attempt.

        A delivery redelivered while the first is still sending (a late heartbeat, a
        second replica) must not call the provider too, nor may one that arrives just
        after the first finished; a claim is only granted to a message with no provider
        id that has not failed, and lapses on its own if its holder dies.
        """
        got = await self._pool.fetchval(
            """
            UPDATE notifier.messages
            SET claimed_until = clock_timestamp() + make_interval(secs => $2)
            WHERE request_event_id = $1
              AND provider_message_id IS NULL AND status <> 'failed'
              AND (claimed_until IS NULL OR claimed_until < clock_timestamp())
            RETURNING true
            """,
            request_event_id,
            for_s,
        )
        if got:
            return Claim(claimed=True)
        row = await self._pool.fetchrow(
            "SELECT provider_message_id, status,"
            " EXTRACT(EPOCH FROM (claimed_until - clock_timestamp()))::float8 AS remaining"
            " FROM notifier.messages WHERE request_event_id = $1",
            request_event_id,
        )
        if row is None or row["provider_message_id"] is not None or row["status"] == "failed":
            return Claim(claimed=False, settled=True)
        return Claim(claimed=False, retry_in_s=max(0.05, float(row["remaining"] or 0.0)))

    async def release(self, request_event_id: uuid.UUID) -> None:
        await self._pool.execute(
            "UPDATE notifier.messages SET claimed_until = NULL WHERE request_event_id = $1",
            request_event_id,
        )

    async def record_attempt_failed(self, request_event_id: uuid.UUID) -> int:
        """Count one more failed provider attempt; the count so far (0 if unknown)."""
        attempts: int | None = await self._pool.fetchval(
            "UPDATE notifier.messages SET provider_attempts = provider_attempts + 1,"
            " updated_at = now() WHERE request_event_id = $1 RETURNING provider_attempts",
            request_event_id,
        )
        return attempts or 0

    async def provider_message_id(self, request_event_id: uuid.UUID) -> str | None:
        """The provider's id once the send succeeded: its presence means "never resend"."""
        value: str | None = await self._pool.fetchval(
            "SELECT provider_message_id FROM notifier.messages WHERE request_event_id = $1",
            request_event_id,
        )
        return value

    async def failure_recorded(self, request_event_id: uuid.UUID) -> bool:
        """True when the send path already recorded a final failure for this request."""
        failed: bool | None = await self._pool.fetchval(
            "SELECT status = 'failed' AND provider_message_id IS NULL"
            " FROM notifier.messages WHERE request_event_id = $1",
            request_event_id,
        )
        return bool(failed)

    async def set_degradation(self, request_event_id: uuid.UUID, degradation: str) -> None:
        """Record what was lost converting the content for a channel (e.g. Chattigo)."""
        await self._pool.execute(
            "UPDATE notifier.messages SET degradation = $2, updated_at = now()"
            " WHERE request_event_id = $1",
            request_event_id,
            degradation,
        )

    # --- provider status webhooks ---------------------------------------------------------

    async def apply_status(
        self,
        provider_message_id: str,
        status: str,
        at: datetime,
        error: StatusError | None = None,
    ) -> StatusChange | None:
        """Apply a provider status; the change, or None when nothing moved.

        None covers a duplicate, a step backwards, and a provider id no message carries
        (a message another system sent from the same number, or a webhook that beat
        :meth:`record_sent`; :meth:`get_by_provider_id` tells them apart).
        """
        if status not in _TIMESTAMP_COLUMN:
            raise ValueError(f"not a provider status: {status!r}")
        error_code = None if error is None else str(error.code)
        error_title = None if error is None else error.title
        async with self._pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(
                "SELECT * FROM notifier.messages WHERE provider_message_id = $1 FOR UPDATE",
                provider_message_id,
            )
            if row is None:
                return None
            current = row["status"]
            if not _may_move(current, status):
                column = _TIMESTAMP_COLUMN[status]
                if status != "failed" and row[column] is None:
                    # A late earlier status: complete the timeline, keep the status.
                    await connection.execute(
                        _BACKFILL_TIMESTAMP, row["request_event_id"], status, at
                    )
                return None
            updated = await connection.fetchrow(
                _ADVANCE_STATUS, row["request_event_id"], status, at, error_code, error_title
            )
            detail = (
                {"code": error_code, "title": error_title} if error_code or error_title else None
            )
            await self._history(
                connection, row["request_event_id"], status, at, source="provider", detail=detail
            )
        return StatusChange(
            message=_record(updated),
            previous_status=current,
            status=cast(ProviderStatus, status),
            occurred_at=at,
            error_code=error_code,
            error_title=error_title,
        )

    @staticmethod
    async def _history(
        connection: asyncpg.Connection,
        request_event_id: uuid.UUID,
        status: str,
        at: datetime,
        *,
        source: str = "notifier",
        detail: dict[str, Any] | None = None,
    ) -> None:
        await connection.execute(
            "INSERT INTO notifier.message_status_history"
            " (request_event_id, status, occurred_at, source, detail)"
            " VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (request_event_id, status) DO NOTHING",
            request_event_id,
            status,
            at,
            source,
            None if detail is None else json.dumps(detail),
        )

    # --- reading ----------------------------------------------------------------------------

    async def get(self, request_event_id: uuid.UUID) -> MessageRecord | None:
        row = await self._pool.fetchrow(
            "SELECT * FROM notifier.messages WHERE request_event_id = $1", request_event_id
        )
        return None if row is None else _record(row)

    async def get_by_provider_id(self, provider_message_id: str) -> MessageRecord | None:
        row = await self._pool.fetchrow(
            "SELECT * FROM notifier.messages WHERE provider_message_id = $1", provider_message_id
        )
        return None if row is None else _record(row)

    async def history(self, request_event_id: uuid.UUID) -> builtins.list[StatusEntry]:
        """The timeline, in the order it was applied (which only ever moves forward).

        Not by ``occurred_at``: providers stamp statuses to the second, so a
        ``delivered`` can carry a time before our own ``requested``.
        """
        rows = await self._pool.fetch(
            "SELECT status, occurred_at, recorded_at, source, detail"
            " FROM notifier.message_status_history"
            " WHERE request_event_id = $1 ORDER BY id",
            request_event_id,
        )
        return [
            StatusEntry(
                status=row["status"],
                occurred_at=row["occurred_at"],
                recorded_at=row["recorded_at"],
                source=row["source"],
                detail=None if row["detail"] is None else json.loads(row["detail"]),
            )
            for row in rows
        ]

    async def list(
        self,
        *,
        tenant_id: str | None = None,
        status: MessageStatus | None = None,
        recipient: str | None = None,
        since: datetime | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> MessagePage:
        """Messages newest first (by request time), filtered, keyset-paginated.

        ``recipient`` matches with or without a leading ``+``; ``since`` keeps messages
        requested at or after it. :class:`InvalidCursor` for a
        cursor this store did not produce.
        """
        limit = max(1, min(limit, MAX_PAGE))
        after_at, after_id = decode_cursor(cursor) if cursor else (None, None)
        rows = await self._pool.fetch(
            "SELECT * FROM notifier.messages"
            " WHERE ($1::text IS NULL OR tenant_id = $1)"
            " AND ($2::text IS NULL OR status = $2)"
            " AND ($3::text IS NULL OR ltrim(recipient, '+') = ltrim($3, '+'))"
            " AND ($4::timestamptz IS NULL OR requested_at >= $4)"
            " AND ($5::timestamptz IS NULL OR (requested_at, request_event_id) < ($5, $6::uuid))"
            " ORDER BY requested_at DESC, request_event_id DESC LIMIT $7",
            tenant_id,
            status,
            recipient,
            since,
            after_at,
            after_id,
            limit + 1,
        )
        items = [_record(row) for row in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = items[-1]
            next_cursor = encode_cursor(last.requested_at, last.request_event_id)
        return MessagePage(items=items, next_cursor=next_cursor)
