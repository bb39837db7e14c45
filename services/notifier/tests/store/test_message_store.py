"""Outbound messages: once per request, statuses only move forward, keyset pages."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from cauce_contracts.inbound import ReportedError
from cauce_contracts.outbound import OutboundMessageRequested, TextContent
from cauce_contracts.subjects import Channel
from cauce_notifier.rate_limit import PairBackoff
from cauce_notifier.service_window import ServiceWindows
from cauce_notifier.store.messages import MessageStore
from cauce_runtime import InvalidCursor

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class CountingPool:
    """The pool, counting the ``fetch`` statements sent through it."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.fetches = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self._pool, name)

    async def fetch(self, query: str, *args: object) -> list[asyncpg.Record]:
        self.fetches += 1
        return await self._pool.fetch(query, *args)


def request(
    *, tenant: str = "acme", to: str = "+573001234567", at: datetime = T0
) -> OutboundMessageRequested:
    return OutboundMessageRequested(
        tenant_id=tenant,
        correlation_id="corr-1",
        occurred_at=at,
        channel=Channel.WHATSAPP,
        contact_key="0123456789abcdef01234567",
        channel_account_id="734053143122597",
        recipient=to,
        content=TextContent(body="hola"),
    )


async def sent_message(store: MessageStore, provider_id: str = "wamid.A") -> uuid.UUID:
    event = request()
    await store.record_requested(event)
    await store.record_sent(event.event_id, provider_id, T0 + timedelta(seconds=1))
    return event.event_id


async def test_record_requested_once_and_sent_idempotently(pool: asyncpg.Pool) -> None:
    store = MessageStore(pool)
    event = request()
    row, created = await store.record_requested(event)
    assert created and row.status == "requested" and row.content["body"] == "hola"
    again, created = await store.record_requested(event)
    assert not created and again.request_event_id == event.event_id
    assert await store.provider_message_id(event.event_id) is None

    sent = await store.record_sent(event.event_id, "wamid.1", T0, "buttons as text")
    assert sent is not None and sent.status == "sent" and sent.degradation == "buttons as text"
    repeat = await store.record_sent(event.event_id, "wamid.other", T0 + timedelta(seconds=5))
    assert repeat is not None and repeat.provider_message_id == "wamid.1"
    assert await store.provider_message_id(event.event_id) == "wamid.1"
    redelivered, created = await store.record_requested(event)
    assert not created and redelivered.provider_message_id == "wamid.1"
    # the send path never fails a message the provider accepted
    after = await store.record_failed(event.event_id, "131026", "x", False, T0)
    assert after is not None and after.status == "sent"
    assert [h.status for h in await store.history(event.event_id)] == ["requested", "sent"]


async def test_record_failed_and_attempts(pool: asyncpg.Pool) -> None:
    store = MessageStore(pool)
    event = request()
    await store.record_requested(event)
    assert await store.record_attempt_failed(event.event_id) == 1
    assert await store.record_attempt_failed(event.event_id) == 2
    assert not await store.failure_recorded(event.event_id)
    failed = await store.record_failed(
        event.event_id, code="131047", title="outside window", retryable=False, at=T0
    )
    assert failed is not None and failed.status == "failed" and failed.error_code == "131047"
    assert failed.provider_attempts == 2
    assert await store.failure_recorded(event.event_id)
    history = await store.history(event.event_id)
    assert history[-1].status == "failed" and history[-1].detail == {
        "code": "131047",
        "title": "outside window",
        "retryable": False,
    }


async def test_statuses_never_move_backwards(pool: asyncpg.Pool) -> None:
    store = MessageStore(pool)
    request_id = await sent_message(store)
    read = (await store.apply_status("wamid.A", "read", T0 + timedelta(seconds=5))).change
    assert read is not None and read.previous_status == "sent" and read.status == "read"
    # delivered arrives late: ignored, but its time completes the timeline
    late = await store.apply_status("wamid.A", "delivered", T0 + timedelta(seconds=3))
    assert late.found and late.change is None
    again = await store.apply_status("wamid.A", "read", T0 + timedelta(seconds=6))
    assert again.found and again.change is None
    failed_late = await store.apply_status(
        "wamid.A", "failed", T0 + timedelta(seconds=7), ReportedError(code=131026, title="x")
    )
    assert failed_late.found and failed_late.change is None
    message = await store.get(request_id)
    assert message is not None
    assert message.status == "read"
    assert message.delivered_at == T0 + timedelta(seconds=3)
    assert message.read_at == T0 + timedelta(seconds=5)
    assert message.failed_at is None and message.error_code is None
    assert [h.status for h in await store.history(request_id)] == ["requested", "sent", "read"]


async def test_failed_over_delivered_is_final(pool: asyncpg.Pool) -> None:
    store = MessageStore(pool)
    request_id = await sent_message(store, "wamid.B")
    delivered = await store.apply_status("wamid.B", "delivered", T0 + timedelta(seconds=2))
    assert delivered.change is not None and delivered.change.previous_status == "sent"
    change = (
        await store.apply_status(
            "wamid.B",
            "failed",
            T0 + timedelta(seconds=3),
            ReportedError(code=131049, title="ecosystem engagement"),
        )
    ).change
    assert change is not None and change.error_code == "131049"
    assert change.message.status == "failed" and change.message.retryable is False
    assert change.message.failed_at == T0 + timedelta(seconds=3)
    assert change.message.error_title == "ecosystem engagement"
    after = await store.apply_status("wamid.B", "read", T0 + timedelta(seconds=4))
    assert after.found and after.change is None
    history = await store.history(request_id)
    assert [h.status for h in history] == ["requested", "sent", "delivered", "failed"]
    assert history[-1].source == "provider"
    assert history[-1].detail == {"code": "131049", "title": "ecosystem engagement"}
    message = await store.get(request_id)
    # a failed message takes no later status, but a late status still fills its time in
    assert message is not None and message.status == "failed" and message.read_at is not None
    unknown = await store.apply_status("wamid.unknown", "read", T0)
    assert not unknown.found and unknown.change is None
    with pytest.raises(ValueError, match="not a provider status"):
        await store.apply_status("wamid.B", "requested", T0)


async def test_a_status_ahead_of_sent_skips_steps(pool: asyncpg.Pool) -> None:
    store = MessageStore(pool)
    request_id = await sent_message(store, "wamid.C")
    change = (await store.apply_status("wamid.C", "read", T0 + timedelta(seconds=9))).change
    assert change is not None and change.message.status == "read"
    assert change.message.delivered_at is None and change.message.read_at is not None
    assert [h.status for h in await store.history(request_id)] == ["requested", "sent", "read"]


async def test_admission_records_claims_and_reads_window_and_backoff(
    pool: asyncpg.Pool,
) -> None:
    store = MessageStore(pool)
    event = request()
    first = await store.admit(event, claim_for_s=30)
    assert first.created and first.claim.claimed and first.message.status == "requested"
    assert first.last_inbound_at is None and first.pair_backoff_s == 0
    # a copy redelivered while the first holds it waits for the claim to lapse
    held = await store.admit(event, claim_for_s=30)
    assert not held.created and not held.claim.claimed and not held.claim.settled
    assert 25 < held.claim.retry_in_s <= 30
    await store.release(event.event_id)
    retaken = await store.admit(event, claim_for_s=30)
    assert retaken.claim.claimed and not retaken.created

    windows, backoff = ServiceWindows(pool), PairBackoff(pool)
    await windows.record_inbound(
        "acme", "whatsapp", "734053143122597", event.contact_key, T0 + timedelta(hours=1)
    )
    await backoff.back_off("whatsapp", "734053143122597", event.contact_key, 60)
    seen = await store.admit(event, claim_for_s=30)
    assert seen.last_inbound_at == T0 + timedelta(hours=1)
    assert 55 < seen.pair_backoff_s <= 60

    await store.record_sent(event.event_id, "wamid.D", T0)
    sent = await store.admit(event, claim_for_s=30)
    assert sent.claim.settled and sent.message.provider_message_id == "wamid.D"
    assert [h.status for h in await store.history(event.event_id)] == ["requested", "sent"]


async def test_a_call_in_doubt_is_kept_until_an_answer_settles_it(pool: asyncpg.Pool) -> None:
    store = MessageStore(pool)
    event = request()
    first = await store.admit(event, claim_for_s=30)
    assert first.maybe_sent_s is None
    assert await store.mark_maybe_sent(event.event_id, first.claim)
    await store.release(event.event_id, maybe_sent=True)  # the answer was lost
    doubt = await store.admit(event, claim_for_s=30)
    assert doubt.claim.claimed and doubt.maybe_sent_s is not None and doubt.maybe_sent_s < 5

    await store.release(event.event_id)  # a wait decided before any call: no doubt
    again = await store.admit(event, claim_for_s=30)
    assert again.maybe_sent_s is None
    assert await store.mark_maybe_sent(event.event_id, again.claim)
    assert await store.record_attempt_failed(event.event_id) == 1  # the provider answered
    assert (await store.admit(event, claim_for_s=30)).maybe_sent_s is None  # (still held)
    await store.release(event.event_id)  # (the send path releases after it)
    last = await store.admit(event, claim_for_s=30)
    assert last.claim.claimed and last.maybe_sent_s is None
    assert await store.mark_maybe_sent(event.event_id, last.claim)
    await store.record_sent(event.event_id, "wamid.S", T0)
    assert (await store.admit(event, claim_for_s=30)).maybe_sent_s is None


async def test_only_the_claims_holder_may_mark_a_call(pool: asyncpg.Pool) -> None:
    store = MessageStore(pool)
    event = request()
    slow = await store.admit(event, claim_for_s=0.05)
    await asyncio.sleep(0.1)  # its claim lapses...
    took_over = await store.admit(event, claim_for_s=30)  # ...and another worker takes it
    assert took_over.claim.claimed

    assert not await store.mark_maybe_sent(event.event_id, slow.claim)
    assert await store.mark_maybe_sent(event.event_id, took_over.claim)


async def test_marks_asked_together_are_one_statement_and_each_checks_its_claim(
    pool: asyncpg.Pool,
) -> None:
    counting = CountingPool(pool)
    store = MessageStore(counting)  # type: ignore[arg-type]
    events = [request() for _ in range(4)]
    admissions = [await store.admit(event, claim_for_s=30) for event in events]
    slow = await store.admit(lapsed := request(), claim_for_s=0.05)
    await asyncio.sleep(0.1)
    assert (await store.admit(lapsed, claim_for_s=30)).claim.claimed  # taken over
    counting.fetches = 0

    marked = await asyncio.gather(
        *(
            store.mark_maybe_sent(e.event_id, a.claim)
            for e, a in zip(events, admissions, strict=True)
        ),
        store.mark_maybe_sent(lapsed.event_id, slow.claim),
    )

    assert marked == [True, True, True, True, False]
    assert counting.fetches < 5
    for event in events:
        await store.release(event.event_id, maybe_sent=True)
        assert (await store.admit(event, claim_for_s=30)).maybe_sent_s is not None
    assert (await store.admit(lapsed, claim_for_s=30)).maybe_sent_s is None


async def test_a_status_records_a_send_only_from_the_account_it_names(pool: asyncpg.Pool) -> None:
    store = MessageStore(pool)
    event = request()
    await store.record_requested(event)

    elsewhere = await store.record_sent(
        event.event_id, "wamid.X", T0, sent_from=("whatsapp", "999999999")
    )
    other_channel = await store.record_sent(
        event.event_id, "wamid.X", T0, sent_from=("ycloud", event.channel_account_id)
    )
    assert elsewhere is None and other_channel is None
    assert await store.provider_message_id(event.event_id) is None

    ours = await store.record_sent(
        event.event_id, "wamid.S", T0, sent_from=("whatsapp", event.channel_account_id)
    )
    assert ours is not None and ours.provider_message_id == "wamid.S"


async def test_concurrent_admissions_claim_once(pool: asyncpg.Pool) -> None:
    store, other_replica = MessageStore(pool), MessageStore(pool)
    event = request()
    await store.record_requested(event)
    admissions = await asyncio.gather(
        *(s.admit(event, claim_for_s=30) for s in [store, other_replica] * 4)
    )
    assert sum(a.claim.claimed for a in admissions) == 1
    assert all(a.claim.retry_in_s > 25 for a in admissions if not a.claim.claimed)


async def test_requests_admitted_together_are_one_statement_each_with_its_own_answer(
    pool: asyncpg.Pool,
) -> None:
    counting = CountingPool(pool)
    store = MessageStore(counting)  # type: ignore[arg-type]
    sent, held, fresh = request(), request(), [request() for _ in range(3)]
    await store.admit(sent, claim_for_s=30)
    await store.record_sent(sent.event_id, "wamid.T", T0)
    await store.admit(held, claim_for_s=30)
    counting.fetches = 0

    admissions = await asyncio.gather(
        *(store.admit(e, claim_for_s=30) for e in [sent, held, *fresh])
    )

    assert counting.fetches == 1
    redelivered, busy, *new = admissions
    assert redelivered.claim.settled and redelivered.message.provider_message_id == "wamid.T"
    assert not busy.claim.claimed and not busy.claim.settled and busy.claim.retry_in_s > 25
    assert all(a.created and a.claim.claimed for a in new)
    assert [a.message.request_event_id for a in new] == [e.event_id for e in fresh]
    assert [h.status for h in await store.history(fresh[0].event_id)] == ["requested"]


async def test_sends_recorded_together_are_one_statement_and_the_first_id_wins(
    pool: asyncpg.Pool,
) -> None:
    counting = CountingPool(pool)
    store = MessageStore(counting)  # type: ignore[arg-type]
    events = [request() for _ in range(3)]
    for event in events:
        await store.admit(event, claim_for_s=30)
    await store.record_sent(events[0].event_id, "wamid.FIRST", T0)
    counting.fetches = 0

    stored = await asyncio.gather(
        store.record_sent(events[0].event_id, "wamid.LATE", T0),  # already recorded
        store.record_sent(events[1].event_id, "wamid.B", T0, "buttons as text"),
        store.record_sent(events[2].event_id, "wamid.C", T0),
        store.record_sent(uuid.uuid4(), "wamid.UNKNOWN", T0),
    )

    assert counting.fetches == 1
    assert [r.provider_message_id if r else None for r in stored] == [
        "wamid.FIRST",
        "wamid.B",
        "wamid.C",
        None,
    ]
    assert stored[1] is not None and stored[1].degradation == "buttons as text"
    assert [h.status for h in await store.history(events[2].event_id)] == ["requested", "sent"]
    for event in events:
        assert (await store.admit(event, claim_for_s=30)).claim.settled


async def test_list_filters_and_keyset_pages(pool: asyncpg.Pool) -> None:
    store = MessageStore(pool)
    ids = []
    for i in range(7):
        event = request(
            at=T0 + timedelta(minutes=i), to="573001112222" if i % 2 else "+573009998888"
        )
        await store.record_requested(event)
        ids.append(event.event_id)
    await store.record_requested(request(tenant="other"))
    await store.record_sent(ids[6], "wamid.six", T0)

    seen: list[uuid.UUID] = []
    cursor = None
    for _ in range(10):
        page = await store.list(tenant_id="acme", cursor=cursor, limit=3)
        seen.extend(m.request_event_id for m in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == list(reversed(ids))  # newest first, each once

    to = await store.list(tenant_id="acme", recipient="+573001112222")
    assert {m.request_event_id for m in to.items} == {ids[1], ids[3], ids[5]}
    bare = await store.list(tenant_id="acme", recipient="573009998888")
    assert len(bare.items) == 4
    sent = await store.list(tenant_id="acme", status="sent")
    assert [m.request_event_id for m in sent.items] == [ids[6]]
    since = await store.list(tenant_id="acme", since=T0 + timedelta(minutes=5))
    assert [m.request_event_id for m in since.items] == [ids[6], ids[5]]
    assert len((await store.list()).items) == 8
    with pytest.raises(InvalidCursor):
        await store.list(cursor="bm90IGEgY3Vyc29y")


async def test_marking_a_message_maybe_sent_updates_it_in_place(pool: asyncpg.Pool) -> None:
    """The pages of messages keep room for a row's next version (fillfactor), so an
    update no index reads (the maybe-sent mark) stays in its page, a HOT update, not a
    new version on another page indexed seven times over."""
    store = MessageStore(pool)
    events = [request(to=f"+5730000{i:05d}") for i in range(40)]  # pages filled up
    claims = [await store.admit(event, claim_for_s=30) for event in events]
    first = events[0].event_id
    page = await page_of(pool, first)

    assert await store.mark_maybe_sent(first, claims[0].claim)

    assert await page_of(pool, first) == page


async def page_of(pool: asyncpg.Pool, request_event_id: uuid.UUID) -> int:
    """The heap page the message's current version is in."""
    return int(
        await pool.fetchval(
            "SELECT (ctid::text::point)[0] FROM notifier.messages WHERE request_event_id = $1",
            request_event_id,
        )
    )
