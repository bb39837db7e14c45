"""A campaign's recipients (``notifier.campaign_recipients``): loaded once, released to
the send path in order, each with its send's id fixed when planned.

Loading a CSV replaces the campaign's recipients in one transaction, with PostgreSQL
``COPY`` in batches (the file is read in a worker thread, a batch at a time, so the
event loop keeps sending meanwhile and nothing holds the whole file).

Each recipient's send is ``outbound.message.requested`` with event id
:func:`request_id` (a uuid5 of campaign and phone): however often a recipient is
released again (after a pause, a lost publish, a retry), the send path sees one request
and sends it once.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import io
import itertools
import json
import uuid
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass
from typing import IO, Any

import asyncpg

from cauce_contracts.subjects import contact_key
from cauce_notifier.campaigns.audiences import LeadSegment, read_leads
from cauce_notifier.campaigns.lifecycle import CampaignStatus, check_editable
from cauce_notifier.campaigns.phone_batches import PhoneBatches
from cauce_notifier.campaigns.recipients_csv import (
    AcceptedRow,
    CsvRefused,
    RejectedRow,
    Row,
    read_here,
    read_recipients,
)
from cauce_notifier.campaigns.store import Campaign, append_event
from cauce_notifier.metrics import CAMPAIGN_RELEASES

#: Rows per ``COPY``: large enough to amortise the round trip, small enough that a
#: batch's thread turn does not starve the event loop.
BATCH_ROWS = 5000
_NAMESPACE = uuid.UUID("a4b1f7e2-5c3d-4e8f-9a6b-0c1d2e3f4a5b")
_RECIPIENT_COLUMNS = (
    "campaign_id",
    "seq",
    "phone",
    "contact_key",
    "variables",
    "request_event_id",
    "country",
)


def request_id(campaign_id: uuid.UUID, phone: str, attempt: int = 1) -> uuid.UUID:
    """The event id of ``phone``'s send in this campaign (stable across releases); a
    retry of a failed send (``attempt`` 2, 3...) is a new request of its own."""
    suffix = "" if attempt == 1 else f":{attempt}"
    return uuid.uuid5(_NAMESPACE, f"{campaign_id}:{phone}{suffix}")


@dataclass(frozen=True)
class LoadReport:
    accepted: int
    rejected: int
    #: The first rejections, by line, for the answer (all of them are downloadable).
    rejections: tuple[RejectedRow, ...]


@dataclass(frozen=True)
class Release:
    """One recipient handed to the send path now."""

    seq: int
    phone: str
    contact_key: str
    variables: tuple[str, ...]
    request_event_id: uuid.UUID
    releases: int


@dataclass(frozen=True)
class Taken:
    """What one :meth:`RecipientStore.release_next` took."""

    #: The recipients released (in order); the suppressed ones taken are not among them.
    releases: list[Release]
    #: The last position taken, released or suppressed (None: nothing was pending).
    last_seq: int | None


class RecipientStore:
    def __init__(
        self, pool: asyncpg.Pool, contact_key_secret: bytes, phones: PhoneBatches | None = None
    ) -> None:
        self._pool = pool
        self._secret = contact_key_secret
        #: Reads an upload's numbers in a worker process (None: in this one).
        self.phones = phones

    async def load_csv(
        self, campaign: Campaign, file: IO[bytes], *, variables: int, first_rejections: int = 20
    ) -> LoadReport:
        """Replace ``campaign``'s recipients with the file's accepted rows; the rejected
        ones are kept with their line and reason. :class:`CsvRefused` when the file as a
        whole does not fit (nothing is changed then)."""
        text = io.TextIOWrapper(file, encoding="utf-8-sig", errors="strict", newline="")
        rows = read_recipients(
            text,
            variables=variables,
            default_region=campaign.default_region,
            read_numbers=self.phones.read if self.phones is not None else read_here,
        )
        return await self.load_rows(campaign, rows, first_rejections=first_rejections)

    async def load_leads(
        self, campaign: Campaign, export: IO[bytes], segment: LeadSegment
    ) -> LoadReport:
        """Replace ``campaign``'s recipients with the leads of crm-sync's ``export`` (its
        CSV, read back from a file) that pass the same checks as an uploaded CSV's rows."""
        text = io.TextIOWrapper(export, encoding="utf-8-sig", errors="replace", newline="")
        rows = read_leads(text, segment, campaign.default_region)
        return await self.load_rows(campaign, rows, from_audience=True)

    async def load_rows(
        self,
        campaign: Campaign,
        rows: Iterator[Row],
        *,
        from_audience: bool = False,
        first_rejections: int = 20,
    ) -> LoadReport:
        """Replace ``campaign``'s recipients with the accepted ``rows`` and its rejections
        with the rejected ones, in one transaction, while it has not started
        (:class:`TransitionRefused` otherwise); ``rows`` is read a batch at a time in a
        worker thread (parsing numbers is CPU work). Rows not ``from_audience`` (a CSV)
        replace the campaign's lead audience too."""
        accepted = rejected = 0
        shown: list[RejectedRow] = []
        async with self._pool.acquire() as connection, connection.transaction():
            status = await connection.fetchval(
                "SELECT status FROM notifier.campaigns WHERE id = $1 FOR UPDATE", campaign.id
            )
            # a start (or another load) committed meanwhile: its recipients stay
            check_editable(CampaignStatus(status), "load recipients into")
            await connection.execute(
                "DELETE FROM notifier.campaign_recipients WHERE campaign_id = $1", campaign.id
            )
            await connection.execute(
                "DELETE FROM notifier.campaign_rejections WHERE campaign_id = $1", campaign.id
            )
            # the next batch is parsed (a worker thread) while PostgreSQL takes this one
            async with contextlib.aclosing(_read_ahead(rows)) as batches:
                async for batch in batches:
                    good = [row for row in batch if isinstance(row, AcceptedRow)]
                    bad = [row for row in batch if isinstance(row, RejectedRow)]
                    await self._copy(connection, campaign.id, good, accepted)
                    await _copy_rejections(connection, campaign.id, bad)
                    accepted += len(good)
                    rejected += len(bad)
                    shown += bad[: first_rejections - len(shown)]
            await connection.execute(
                "UPDATE notifier.campaigns SET recipients = $2, rejected = $3, updated_at = now(),"
                " audience = CASE WHEN $4 THEN audience END WHERE id = $1",
                campaign.id,
                accepted,
                rejected,
                from_audience,
            )
            await append_event(
                connection,
                campaign,
                "audience_resolved" if from_audience else "recipients_loaded",
                {"accepted": accepted, "rejected": rejected},
            )
        return LoadReport(accepted, rejected, tuple(shown))

    async def _copy(
        self,
        connection: asyncpg.Connection,
        campaign_id: uuid.UUID,
        rows: list[AcceptedRow],
        start: int,
    ) -> None:
        if not rows:
            return
        records = [
            (
                campaign_id,
                start + offset,
                row.phone,
                contact_key(row.phone, self._secret),
                json.dumps(list(row.variables)),
                request_id(campaign_id, row.phone),
                row.country,
            )
            for offset, row in enumerate(rows, 1)
        ]
        await connection.copy_records_to_table(
            "campaign_recipients",
            schema_name="notifier",
            columns=_RECIPIENT_COLUMNS,
            records=records,
        )

    # --- releasing --------------------------------------------------------------------

    async def release_next(
        self,
        campaign: Campaign,
        count: int,
        *,
        marketing: bool,
        business_account_id: str | None = None,
        from_seq: int = 0,
    ) -> Taken:
        """Take the next ``count`` pending recipients (in order, skipping rows another
        replica is taking) and mark them released. For a marketing template, those on
        the tenant's suppression list are marked suppressed instead (never sent). The
        released recipients whose service window is closed are counted as reached by
        ``business_account_id`` (its messaging limit), in the same statement. Only
        recipients from ``from_seq`` on are taken."""
        rows = await self._pool.fetch(
            """
            WITH next AS (
                SELECT r.campaign_id, r.seq, r.contact_key,
                    ($3 AND s.contact_key IS NOT NULL) AS suppressed
                FROM notifier.campaign_recipients r
                LEFT JOIN notifier.suppressions s
                    ON s.tenant_id = $4 AND s.contact_key = r.contact_key
                WHERE r.campaign_id = $1 AND r.state = 'pending' AND r.seq >= $8
                  AND (r.not_before IS NULL OR r.not_before <= now())
                ORDER BY r.seq LIMIT $2 FOR UPDATE OF r SKIP LOCKED
            ), marked AS (
                UPDATE notifier.campaign_recipients r SET
                    state = CASE WHEN next.suppressed THEN 'suppressed' ELSE 'released' END,
                    note = CASE WHEN next.suppressed
                                THEN 'opted out of marketing messages' ELSE r.note END,
                    releases = r.releases + CASE WHEN next.suppressed THEN 0 ELSE 1 END,
                    released_at = CASE WHEN next.suppressed THEN r.released_at ELSE now() END,
                    in_flight = NOT next.suppressed
                FROM next WHERE r.campaign_id = next.campaign_id AND r.seq = next.seq
                RETURNING r.*
            ), reached AS (
                INSERT INTO notifier.reached_customers (business_account_id, contact_key,
                    reached_at)
                SELECT $5, m.contact_key, now() FROM marked m
                WHERE $5::text IS NOT NULL AND m.state = 'released'
                  AND NOT EXISTS (
                      SELECT 1 FROM notifier.contact_windows w
                      WHERE w.tenant_id = $4 AND w.channel = $6
                        AND w.channel_account_id = $7 AND w.contact_key = m.contact_key
                        AND w.last_inbound_at > now() - interval '24 hours')
                ON CONFLICT (business_account_id, contact_key)
                DO UPDATE SET reached_at = GREATEST(notifier.reached_customers.reached_at,
                                                    EXCLUDED.reached_at)
            )
            SELECT seq, phone, contact_key, variables, request_event_id, releases, state
            FROM marked
            """,
            campaign.id,
            count,
            marketing,
            campaign.tenant_id,
            business_account_id,
            campaign.channel,
            campaign.channel_account_id,
            from_seq,
        )
        released = [row for row in rows if row["state"] == "released"]
        if len(released) < len(rows):
            CAMPAIGN_RELEASES.add(len(rows) - len(released), {"outcome": "suppressed"})
        CAMPAIGN_RELEASES.add(len(released), {"outcome": "released"})
        return Taken(
            releases=sorted((_release(row) for row in released), key=lambda r: r.seq),
            last_seq=max((row["seq"] for row in rows), default=None),
        )

    async def put_back(self, campaign_id: uuid.UUID, seqs: builtins.list[int]) -> None:
        """Released recipients that were not published go back to pending: released
        again (in order) when the campaign runs again, cancelled if it is cancelled."""
        await self._pool.execute(
            "UPDATE notifier.campaign_recipients SET state = 'pending', in_flight = false"
            " WHERE campaign_id = $1 AND seq = ANY($2::bigint[]) AND state = 'released'",
            campaign_id,
            seqs,
        )

    async def reachable_now(self, business_account_id: str, daily_limit: int) -> int:
        """How many more customers outside their service window the account may reach
        now: its messaging limit minus those reached in the moving 24 hours."""
        reached = await self._pool.fetchval(
            "SELECT count(*) FROM notifier.reached_customers WHERE business_account_id = $1"
            " AND reached_at > now() - interval '24 hours'",
            business_account_id,
        )
        return max(0, daily_limit - int(reached))

    async def retry_failed(self, campaign_id: uuid.UUID) -> tuple[int, int]:
        """Recipients whose send failed for a reason worth retrying go back to pending as
        a new attempt (a new request: the failed one stays on record); ``(requeued,
        left)``. Worth retrying: a failure whose retries ran out (429s, 5xx, timeouts),
        the pair rate (131056), and the per-user marketing cap (131049) once 24 hours
        have passed since it; not an undeliverable number or a refused template."""
        async with self._pool.acquire() as connection, connection.transaction():
            rows = await connection.fetch(
                """
                SELECT r.seq, r.phone, r.attempt,
                    (m.retryable OR m.error_code IN ('131056', '130429')
                     OR (m.error_code = '131049'
                         AND m.failed_at < now() - interval '24 hours')) AS worth
                FROM notifier.campaign_recipients r
                JOIN notifier.messages m ON m.request_event_id = r.request_event_id
                WHERE r.campaign_id = $1 AND r.state = 'released' AND m.status = 'failed'
                FOR UPDATE OF r
                """,
                campaign_id,
            )
            again = [(r["seq"], r["phone"], r["attempt"] + 1) for r in rows if r["worth"]]
            if again:
                await connection.executemany(
                    "UPDATE notifier.campaign_recipients SET state = 'pending', in_flight = false,"
                    " attempt = $3,"
                    " request_event_id = $4, not_before = NULL, note = $5"
                    " WHERE campaign_id = $1 AND seq = $2",
                    [
                        (
                            campaign_id,
                            seq,
                            attempt,
                            request_id(campaign_id, phone, attempt),
                            f"retry: attempt {attempt}",
                        )
                        for seq, phone, attempt in again
                    ],
                )
        return len(again), len(rows) - len(again)

    async def unanswered_releases(
        self, campaign_id: uuid.UUID, older_than_s: float, limit: int = 500
    ) -> builtins.list[Release]:
        """Released recipients the send path never recorded (a publish lost to a crash
        between marking and publishing): released again by the dispatcher. Such a
        recipient is still in flight (no outcome cleared it), so only those are read:
        the sweep costs what is in flight, not what the campaign has sent."""
        rows = await self._pool.fetch(
            """
            UPDATE notifier.campaign_recipients r
            SET releases = r.releases + 1, released_at = now()
            WHERE (r.campaign_id, r.seq) IN (
                SELECT c.campaign_id, c.seq FROM notifier.campaign_recipients c
                WHERE c.campaign_id = $1 AND c.state = 'released' AND c.in_flight
                  AND c.released_at < now() - make_interval(secs => $2::float8)
                  AND NOT EXISTS (SELECT 1 FROM notifier.messages m
                                  WHERE m.request_event_id = c.request_event_id)
                ORDER BY c.seq LIMIT $3 FOR UPDATE SKIP LOCKED)
            RETURNING r.seq, r.phone, r.contact_key, r.variables, r.request_event_id, r.releases
            """,
            campaign_id,
            older_than_s,
            limit,
        )
        return sorted((_release(row) for row in rows), key=lambda r: r.seq)

    async def remaining(self, campaign_id: uuid.UUID, from_seq: int = 0) -> tuple[bool, int]:
        """``(pending, in_flight)``: whether recipients wait to be released, and how many
        released ones wait for their send's outcome. Both read partial indexes, so a
        dispatcher tick costs the same at the first recipient and the 100,000th; pending
        ones are looked for from ``from_seq`` first (where the next release starts: the
        index entries before it are of recipients released since the last vacuum), and
        before it only when there are none past it."""
        row = await self._pool.fetchrow(
            """
            SELECT
              (SELECT seq FROM notifier.campaign_recipients
               WHERE campaign_id = $1 AND state = 'pending' AND seq >= $2
               ORDER BY seq LIMIT 1) IS NOT NULL
              OR (SELECT seq FROM notifier.campaign_recipients
                  WHERE campaign_id = $1 AND state = 'pending' AND seq < $2
                  ORDER BY seq LIMIT 1) IS NOT NULL
                AS pending,
              (SELECT count(*) FROM notifier.campaign_recipients
               WHERE campaign_id = $1 AND in_flight) AS in_flight
            """,
            campaign_id,
            from_seq,
        )
        assert row is not None
        return bool(row["pending"]), int(row["in_flight"])


async def _read_ahead(rows: Iterator[Row]) -> AsyncGenerator[builtins.list[Row]]:
    """``rows`` a batch at a time, the next one read in a worker thread while the
    caller works on the one it was given."""
    ahead = asyncio.ensure_future(asyncio.to_thread(_next_batch, rows))
    try:
        while batch := await ahead:
            ahead = asyncio.ensure_future(asyncio.to_thread(_next_batch, rows))
            yield batch
    finally:
        if not ahead.done():
            ahead.cancel()
            with contextlib.suppress(BaseException):
                await ahead


def _next_batch(rows: Iterator[Row]) -> builtins.list[Row]:
    try:
        return builtins.list(itertools.islice(rows, BATCH_ROWS))
    except UnicodeDecodeError as exc:
        raise CsvRefused(
            f"the file is not UTF-8 text (byte {exc.start}): save it as 'CSV UTF-8'"
        ) from exc


async def _copy_rejections(
    connection: asyncpg.Connection, campaign_id: uuid.UUID, rows: builtins.list[RejectedRow]
) -> None:
    if rows:
        await connection.copy_records_to_table(
            "campaign_rejections",
            schema_name="notifier",
            columns=("campaign_id", "line", "reason", "cells"),
            records=[(campaign_id, r.line, r.reason, json.dumps(list(r.cells))) for r in rows],
        )


def _release(row: Any) -> Release:
    return Release(
        seq=row["seq"],
        phone=row["phone"],
        contact_key=row["contact_key"],
        variables=tuple(json.loads(row["variables"])),
        request_event_id=row["request_event_id"],
        releases=row["releases"],
    )


__all__ = ["LoadReport", "RecipientStore", "Release", "request_id"]
