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

import builtins
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Literal, cast

import asyncpg

from cauce_contracts.inbound import ReportedError, StatusPricing
from cauce_contracts.outbound import OutboundMessageRequested
from cauce_runtime import Coalescer, TransientError, decode_cursor, encode_cursor

MessageStatus = Literal["requested", "sent", "delivered", "read", "failed"]
#: Statuses a provider reports for a sent message.
ProviderStatus = Literal["sent", "delivered", "read", "failed"]

_PROVIDER_STATUSES = frozenset({"sent", "delivered", "read", "failed"})
MAX_PAGE = 500

# Record requests and claim them (``$13`` seconds; NULL claims nothing), reading each
# contact's window and each recipient's pair back-off on the way: one statement for
# every request admitted together (``$1``-``$12`` are parallel arrays, one entry per
# request). A new row is inserted already claimed (a statement cannot update a row it
# inserted); an existing one is claimed by the UPDATE when free. Exactly one of the
# three branches yields each request's row (none when another transaction inserted it
# concurrently: our snapshot cannot see it yet).
#
# A claim (the send path's admission) commits without waiting for its WAL flush
# (``synchronous_commit`` off for this transaction, as the send limiter's reservation
# does): before any provider call the send's *maybe sent* mark commits synchronously,
# and its flush covers every earlier commit, this one included; every other way out of
# the send path either commits synchronously too (a failure, a release) or leaves the
# delivery unacknowledged, so a database crash that loses the admission loses nothing
# JetStream does not deliver again. It takes a flush wait off every send's way to the
# provider (a reply's p50/p99 during the campaign bench: 16.8 / 39 -> 13-14 / 30 ms).
# Recording a request without a claim keeps the server's setting.
_ADMIT = """
WITH requested AS (
    SELECT r.* FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
        $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
        $12::timestamptz[])
    AS r(request_event_id, tenant_id, channel, channel_account_id, contact_key, recipient,
        content_type, content, reply_to_message_id, campaign_id, correlation_id, requested_at),
    (SELECT set_config('synchronous_commit', CASE WHEN $13::float8 IS NULL
        THEN current_setting('synchronous_commit') ELSE 'off' END, true)) AS durability
), inserted AS (
    INSERT INTO notifier.messages (request_event_id, tenant_id, channel,
        channel_account_id, contact_key, recipient, content_type, content,
        reply_to_message_id, campaign_id, correlation_id, requested_at, claimed_until)
    SELECT request_event_id, tenant_id, channel, channel_account_id, contact_key,
        recipient, content_type, content::jsonb, reply_to_message_id, campaign_id,
        correlation_id, requested_at,
        clock_timestamp() + make_interval(secs => $13::float8)
    FROM requested
    ON CONFLICT (request_event_id) DO NOTHING
    RETURNING *
), history AS (
    INSERT INTO notifier.message_status_history (request_event_id, status, occurred_at, source)
    SELECT request_event_id, 'requested', requested_at, 'notifier' FROM inserted
    ON CONFLICT (request_event_id, status) DO NOTHING
), claimed AS (
    UPDATE notifier.messages m
    SET claimed_until = clock_timestamp() + make_interval(secs => $13::float8)
    FROM requested r
    WHERE m.request_event_id = r.request_event_id AND $13::float8 IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM inserted i WHERE i.request_event_id = r.request_event_id)
      AND m.provider_message_id IS NULL AND m.status <> 'failed'
      AND (m.claimed_until IS NULL OR m.claimed_until < clock_timestamp())
    RETURNING m.*
), message AS (
    SELECT true AS created, $13::float8 IS NOT NULL AS claimed, * FROM inserted
    UNION ALL
    SELECT false, true, * FROM claimed
    UNION ALL
    SELECT false, false, m.* FROM notifier.messages m
    JOIN requested r ON r.request_event_id = m.request_event_id
    WHERE NOT EXISTS (SELECT 1 FROM inserted i WHERE i.request_event_id = m.request_event_id)
      AND NOT EXISTS (SELECT 1 FROM claimed c WHERE c.request_event_id = m.request_event_id)
)
SELECT message.*,
    EXTRACT(EPOCH FROM (message.claimed_until - clock_timestamp()))::float8
        AS claim_remaining_s,
    (SELECT w.last_inbound_at FROM notifier.contact_windows w
     WHERE w.tenant_id = message.tenant_id AND w.channel = message.channel
       AND w.channel_account_id = message.channel_account_id
       AND w.contact_key = message.contact_key) AS last_inbound_at,
    (SELECT EXTRACT(EPOCH FROM (p.until - clock_timestamp()))::float8
     FROM notifier.pair_backoff p
     WHERE p.channel = message.channel AND p.account_id = message.channel_account_id
       AND p.contact_key = message.contact_key) AS pair_backoff_s,
    EXTRACT(EPOCH FROM (clock_timestamp() - message.maybe_sent_since))::float8
        AS maybe_sent_s
FROM message
"""

# Apply a provider status in one statement: lock the message, decide in SQL whether the
# status moves it forward (the rule in this module's docstring), then either advance it
# (status, its timestamp, error, one history row) or only fill in the timestamp of a
# late earlier status. Returns no row for an unknown provider id.
_APPLY_STATUS = """
WITH current AS (
    SELECT request_event_id, status, sent_at, delivered_at, read_at
    FROM notifier.messages WHERE provider_message_id = $1 FOR UPDATE
), decided AS (
    SELECT request_event_id, status AS previous_status,
        (status <> 'failed' AND status <> $2::text AND CASE
            WHEN $2::text = 'failed' THEN status <> 'read'
            ELSE array_position(ARRAY['requested', 'sent', 'delivered', 'read'], $2::text)
               > array_position(ARRAY['requested', 'sent', 'delivered', 'read'], status)
         END) AS moves,
        (CASE $2::text WHEN 'sent' THEN sent_at WHEN 'delivered' THEN delivered_at
             WHEN 'read' THEN read_at END) IS NULL AND $2::text <> 'failed' AS backfills
    FROM current
), updated AS (
    UPDATE notifier.messages m SET
        status = CASE WHEN d.moves THEN $2::text ELSE m.status END,
        sent_at = CASE WHEN $2::text <> 'sent' THEN m.sent_at
                       WHEN d.moves THEN $3 ELSE coalesce(m.sent_at, $3) END,
        delivered_at = CASE WHEN $2::text <> 'delivered' THEN m.delivered_at
                            WHEN d.moves THEN $3 ELSE coalesce(m.delivered_at, $3) END,
        read_at = CASE WHEN $2::text <> 'read' THEN m.read_at
                       WHEN d.moves THEN $3 ELSE coalesce(m.read_at, $3) END,
        failed_at = CASE WHEN $2::text = 'failed' AND d.moves THEN $3 ELSE m.failed_at END,
        error_code = CASE WHEN d.moves THEN coalesce($4, m.error_code) ELSE m.error_code END,
        error_title = CASE WHEN d.moves THEN coalesce($5, m.error_title) ELSE m.error_title END,
        retryable = CASE WHEN d.moves AND $2::text = 'failed' THEN false ELSE m.retryable END,
        billable = coalesce($7, m.billable),
        pricing_category = coalesce($8, m.pricing_category),
        pricing_type = coalesce($9, m.pricing_type),
        updated_at = now()
    FROM decided d
    WHERE m.request_event_id = d.request_event_id AND (d.moves OR d.backfills)
    RETURNING m.*
), history AS (
    INSERT INTO notifier.message_status_history
        (request_event_id, status, occurred_at, source, detail)
    SELECT d.request_event_id, $2::text, $3, 'provider', $6::jsonb FROM decided d
    WHERE d.moves
    ON CONFLICT (request_event_id, status) DO NOTHING
)
SELECT d.previous_status AS _previous_status, d.moves AS _moves, updated.*
FROM decided d LEFT JOIN updated ON true
"""


@dataclass(frozen=True)
class RecordedSend:
    """What :meth:`MessageStore.record_sent` answers of a message it recorded as sent: the
    fields its outcome events carry and what the send path checks, not the whole row
    (reading the content back cost every send a JSON parse)."""

    request_event_id: uuid.UUID
    tenant_id: str
    correlation_id: str
    channel: str
    contact_key: str
    channel_account_id: str
    campaign_id: str | None
    status: MessageStatus
    provider_message_id: str | None
    degradation: str | None

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> RecordedSend:
        return cls(**{name: row[name] for name in _SENT_FIELDS})


_SENT_FIELDS = [field.name for field in fields(RecordedSend)]
#: Its columns, as ``_RECORD_SENT`` reads them of a message ``m``.
_SENT_COLUMNS = ", ".join(f"m.{name}" for name in _SENT_FIELDS)


# Store the provider's ids of messages it accepted (``$1``-``$4``: parallel arrays of
# request, provider id, time and degradation; the first id stored wins), release their
# claims and clear their maybe-sent marks; what :class:`RecordedSend` holds of each
# message as stored comes back (``$5``/``$6``: only messages sent from that channel and
# account, else none).
_RECORD_SENT = f"""
WITH answers AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::text[])
    AS a(request_event_id, provider_message_id, sent_at, degradation)
), updated AS (
    UPDATE notifier.messages m SET provider_message_id = a.provider_message_id,
        status = CASE WHEN m.status IN ('requested', 'failed') THEN 'sent' ELSE m.status END,
        sent_at = coalesce(m.sent_at, a.sent_at),
        degradation = coalesce(a.degradation, m.degradation),
        error_code = NULL, error_title = NULL, error_detail = NULL,
        retryable = NULL, failed_at = NULL, claimed_until = NULL,
        maybe_sent_since = NULL, updated_at = now()
    FROM answers a
    WHERE m.request_event_id = a.request_event_id AND m.provider_message_id IS NULL
      AND ($5::text IS NULL OR (m.channel, m.channel_account_id) = ($5, $6))
    RETURNING {_SENT_COLUMNS}
), history AS (
    INSERT INTO notifier.message_status_history
        (request_event_id, status, occurred_at, source)
    SELECT a.request_event_id, 'sent', a.sent_at, 'notifier'
    FROM answers a JOIN updated u ON u.request_event_id = a.request_event_id
    ON CONFLICT (request_event_id, status) DO NOTHING
), answered AS (
    -- a campaign's recipient no longer counts as in flight (see migration 9)
    UPDATE notifier.campaign_recipients r SET in_flight = false
    FROM answers a WHERE r.request_event_id = a.request_event_id AND r.in_flight
)
SELECT * FROM updated
UNION ALL
SELECT {_SENT_COLUMNS}
FROM notifier.messages m JOIN answers a ON a.request_event_id = m.request_event_id
WHERE NOT EXISTS (SELECT 1 FROM updated u WHERE u.request_event_id = m.request_event_id)
  AND ($5::text IS NULL OR (m.channel, m.channel_account_id) = ($5, $6))
"""  # noqa: S608 - the only value put in is RecordedSend's field names


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
    """What :meth:`MessageStore.admit` found: the message is ours to send, already
    settled (sent or failed), or held by another worker for ``retry_in_s`` more."""

    claimed: bool
    settled: bool = False
    retry_in_s: float = 0.0
    #: The claim's expiry as stored: the fencing token of this claim (a worker whose
    #: claim lapsed and was taken over finds another value there).
    until: datetime | None = None


@dataclass(frozen=True)
class Admission:
    """A request as :meth:`MessageStore.admit` recorded it, with what the send path checks."""

    message: MessageRecord
    #: False on a redelivery.
    created: bool
    claim: Claim
    #: The contact's latest inbound message (None: never wrote), for the 24-hour window.
    last_inbound_at: datetime | None
    #: Seconds the recipient is still in pair-rate back-off (0 when free).
    pair_backoff_s: float
    #: Seconds since a provider call of this message began whose answer was never
    #: recorded (the sender died, PostgreSQL went away, the answer was lost); None when
    #: every call so far was answered. The provider may have the message.
    maybe_sent_s: float | None = None


@dataclass(frozen=True)
class StatusOutcome:
    """What a provider status did: ``found`` False for a provider id no message carries;
    ``change`` None when it did not move the message (a duplicate or a step back)."""

    found: bool
    change: StatusChange | None = None


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


#: The name of the message list in its cursors.
_LIST = "messages"


class MessageStore:
    """Repository of outbound messages; every method is safe to repeat."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        #: Admissions (by claim length), recorded sends (by the account a status webhook
        #: names) and marks asked for while one is on its way go together in the next
        #: statement.
        self._admissions: Coalescer[
            float | None, OutboundMessageRequested, Mapping[str, Any] | None
        ] = Coalescer(self._admit_together)
        self._sends: Coalescer[
            tuple[str, str] | None,
            tuple[uuid.UUID, str, datetime, str | None],
            asyncpg.Record | None,
        ] = Coalescer(self._record_sent_together)
        self._marks: Coalescer[None, tuple[uuid.UUID, datetime | None], bool] = Coalescer(
            self._mark_together
        )

    # --- the send path ------------------------------------------------------------------

    async def admit(self, event: OutboundMessageRequested, claim_for_s: float) -> Admission:
        """Record the request (once) and claim it for one send, in one statement (shared
        with the requests admitted at the same time).

        The same round trip reads what the send path checks next: the contact's last
        inbound time (24-hour window) and any pair-rate back-off of the recipient.
        A new request is inserted already claimed; an existing one is claimed only if it
        has no provider id, has not failed and nobody else holds it. On a redelivery the
        row tells what already happened (a set ``provider_message_id`` means the provider
        accepted it: do not send again).
        """
        row = await self._fetch_admission(event, claim_for_s)
        fields = dict(row)
        created, claimed = bool(fields.pop("created")), bool(fields.pop("claimed"))
        message = _record(fields)
        if claimed:
            claim = Claim(claimed=True, until=fields["claimed_until"])
        elif message.provider_message_id is not None or message.status == "failed":
            claim = Claim(claimed=False, settled=True)
        else:
            claim = Claim(claimed=False, retry_in_s=max(0.05, fields["claim_remaining_s"] or 0.0))
        return Admission(
            message=message,
            created=created,
            claim=claim,
            last_inbound_at=fields["last_inbound_at"],
            pair_backoff_s=max(0.0, fields["pair_backoff_s"] or 0.0),
            maybe_sent_s=(
                None if fields["maybe_sent_s"] is None else max(0.0, fields["maybe_sent_s"])
            ),
        )

    async def record_requested(self, event: OutboundMessageRequested) -> tuple[MessageRecord, bool]:
        """Insert the request once, unclaimed; ``(row, created)``: created False on a
        redelivery (the send path uses :meth:`admit`)."""
        row = await self._fetch_admission(event, None)
        fields = dict(row)
        return _record(fields), bool(fields["created"])

    async def _fetch_admission(
        self, event: OutboundMessageRequested, claim_for_s: float | None
    ) -> Mapping[str, Any]:
        row = await self._admissions.submit(claim_for_s, event)
        if row is None:
            # Another replica inserted it in the same instant: our statement's snapshot
            # cannot see that row yet. The redelivery will.
            raise TransientError("request being recorded by another worker", retry_after=0.2)
        return row

    async def _admit_together(
        self, claim_for_s: float | None, events: list[OutboundMessageRequested]
    ) -> list[Mapping[str, Any] | BaseException | None]:
        """One statement for every request admitted together (see ``_ADMIT``). A request
        delivered twice into the same round is admitted once: the other copy finds it
        held, as it would a moment later."""
        first: dict[uuid.UUID, OutboundMessageRequested] = {}
        for event in events:
            first.setdefault(event.event_id, event)
        unique = list(first.values())
        contents = [event.content.model_dump(mode="json") for event in unique]
        rows = await self._pool.fetch(
            _ADMIT,
            [event.event_id for event in unique],
            [event.tenant_id for event in unique],
            [event.channel.value for event in unique],
            [event.channel_account_id for event in unique],
            [event.contact_key for event in unique],
            [event.recipient for event in unique],
            [content["type"] for content in contents],
            [json.dumps(content) for content in contents],
            [event.reply_to_message_id for event in unique],
            [event.campaign_id for event in unique],
            [event.correlation_id for event in unique],
            [event.occurred_at for event in unique],
            claim_for_s,
        )
        found = {row["request_event_id"]: row for row in rows}
        outcomes: list[Mapping[str, Any] | BaseException | None] = []
        for event in events:
            row = found.get(event.event_id)
            if first.pop(event.event_id, None) is not None or row is None:
                outcomes.append(row)
            else:  # a second copy: the first holds it now
                outcomes.append({**dict(row), "created": False, "claimed": False})
        return outcomes

    async def record_sent(
        self,
        request_event_id: uuid.UUID,
        provider_message_id: str,
        sent_at: datetime,
        degradation: str | None = None,
        *,
        sent_from: tuple[str, str] | None = None,
    ) -> RecordedSend | None:
        """The provider accepted the message: store its id (first writer wins) and
        release the send claim, in one statement (shared with the sends recorded at the
        same time).

        Repeating it is harmless: a message that already has a provider id keeps it.
        A message a provider status webhook already moved past ``sent`` keeps its status.
        ``sent_from``: ``(channel, account id)``, only a message sent from that account
        (a status webhook naming the request, :mod:`cauce_notifier.statuses`). Returns
        the message as stored (:class:`RecordedSend`), or None when the request is
        unknown (or not from there).
        """
        row = await self._sends.submit(
            sent_from, (request_event_id, provider_message_id, sent_at, degradation)
        )
        return None if row is None else RecordedSend.of(row)

    async def _record_sent_together(
        self,
        sent_from: tuple[str, str] | None,
        sends: list[tuple[uuid.UUID, str, datetime, str | None]],
    ) -> list[asyncpg.Record | BaseException | None]:
        rows = await self._pool.fetch(
            _RECORD_SENT,
            [send[0] for send in sends],
            [send[1] for send in sends],
            [send[2] for send in sends],
            [send[3] for send in sends],
            None if sent_from is None else sent_from[0],
            None if sent_from is None else sent_from[1],
        )
        found = {row["request_event_id"]: row for row in rows}
        return [found.get(send[0]) for send in sends]

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
                " retryable = $4, failed_at = $5, error_detail = $6, maybe_sent_since = NULL,"
                " updated_at = now()"
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
                if row["campaign_id"] is not None:
                    await connection.execute(
                        "UPDATE notifier.campaign_recipients SET in_flight = false"
                        " WHERE request_event_id = $1 AND in_flight",
                        request_event_id,
                    )
                return _record(row)
        return await self.get(request_event_id)

    async def release(self, request_event_id: uuid.UUID, *, maybe_sent: bool = False) -> None:
        """Drop the claim, whoever holds it. ``maybe_sent``: the provider may have the
        message (its answer was lost), so the mark of :meth:`mark_maybe_sent` stays;
        otherwise no call is in doubt and the mark goes too."""
        await self._pool.execute(
            "UPDATE notifier.messages SET claimed_until = NULL,"
            " maybe_sent_since = CASE WHEN $2 THEN maybe_sent_since END"
            " WHERE request_event_id = $1",
            request_event_id,
            maybe_sent,
        )

    async def mark_maybe_sent(self, request_event_id: uuid.UUID, claim: Claim) -> bool:
        """A provider call is about to start: until its answer is recorded, the provider
        may have the message (:attr:`Admission.maybe_sent_s` on a redelivery). False,
        marking nothing, when ``claim`` is no longer held (it lapsed and another worker
        took the message over): the call must not be made. Marks asked for while one is
        on its way are made by one statement."""
        return await self._marks.submit(None, (request_event_id, claim.until))

    async def _mark_together(
        self, _: None, marks: list[tuple[uuid.UUID, datetime | None]]
    ) -> list[bool]:
        marked = await self._pool.fetch(
            "UPDATE notifier.messages m SET maybe_sent_since = clock_timestamp()"
            " FROM unnest($1::uuid[], $2::timestamptz[]) AS held(id, until)"
            " WHERE m.request_event_id = held.id AND m.claimed_until = held.until"
            "   AND m.claimed_until > clock_timestamp()"
            " RETURNING m.request_event_id",
            [request_event_id for request_event_id, _ in marks],
            [until for _, until in marks],
        )
        ids = {row["request_event_id"] for row in marked}
        return [request_event_id in ids for request_event_id, _ in marks]

    async def record_attempt_failed(self, request_event_id: uuid.UUID) -> int:
        """Count one more failed provider attempt (the provider answered: the message is
        not there); the count so far (0 if unknown)."""
        attempts: int | None = await self._pool.fetchval(
            "UPDATE notifier.messages SET provider_attempts = provider_attempts + 1,"
            " maybe_sent_since = NULL, updated_at = now()"
            " WHERE request_event_id = $1 RETURNING provider_attempts",
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
        error: ReportedError | None = None,
        pricing: StatusPricing | None = None,
    ) -> StatusOutcome:
        """Apply a provider status in one statement (on every status webhook).

        Not found covers a provider id no message carries (a message another system
        sent from the same number, or a webhook that beat :meth:`record_sent`); no change
        covers a duplicate and a step backwards, whose time still fills in an empty
        timestamp column.
        """
        if status not in _PROVIDER_STATUSES:
            raise ValueError(f"not a provider status: {status!r}")
        error_code = None if error is None else str(error.code)
        error_title = None if error is None else error.title
        detail = {"code": error_code, "title": error_title} if error_code or error_title else None
        row = await self._pool.fetchrow(
            _APPLY_STATUS,
            provider_message_id,
            status,
            at,
            error_code,
            error_title,
            None if detail is None else json.dumps(detail),
            None if pricing is None else pricing.billable,
            None if pricing is None or pricing.category is None else pricing.category.lower(),
            None if pricing is None or pricing.type is None else pricing.type.lower(),
        )
        if row is None:
            return StatusOutcome(found=False)
        if not row["_moves"]:
            return StatusOutcome(found=True)
        return StatusOutcome(
            found=True,
            change=StatusChange(
                message=_record(row),
                previous_status=row["_previous_status"],
                status=cast(ProviderStatus, status),
                occurred_at=at,
                error_code=error_code,
                error_title=error_title,
            ),
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
        requested at or after it. :class:`~cauce_runtime.InvalidCursor` for a
        cursor this store did not produce.
        """
        limit = max(1, min(limit, MAX_PAGE))
        after_at, after_id = (
            decode_cursor(_LIST, cursor, datetime, uuid.UUID) if cursor else (None, None)
        )
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
            next_cursor = encode_cursor(_LIST, last.requested_at, last.request_event_id)
        return MessagePage(items=items, next_cursor=next_cursor)
