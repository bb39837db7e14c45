"""What the dispatcher asks of a running campaign's recipients each round: whether any
wait to be released, how many are in flight, and which releases were never published."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import asyncpg

from cauce_notifier.campaigns.recipients import RecipientStore

RELEASED_LONG_AGO = 60.0
JUST_RELEASED = 0.0


async def campaign_with(
    pool: asyncpg.Pool, recipients: list[tuple[str, bool, float | None]]
) -> uuid.UUID:
    """A running campaign whose recipient ``seq`` is ``(state, in_flight, released so
    many seconds ago)``."""
    campaign_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO notifier.campaigns (id, tenant_id, name, channel, channel_account_id,"
        " template_name, template_language, status, default_region)"
        " VALUES ($1, 'acme', 'c', 'whatsapp', '100', 'tpl', 'es', 'RUNNING', 'CO')",
        campaign_id,
    )
    for seq, (state, in_flight, released_s_ago) in enumerate(recipients):
        await pool.execute(
            "INSERT INTO notifier.campaign_recipients (campaign_id, seq, phone, contact_key,"
            " variables, request_event_id, state, in_flight, released_at, releases)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
            " now() - make_interval(secs => $9::float8), 1)",
            campaign_id,
            seq,
            f"+5730000000{seq:02d}",
            f"key-{seq}",
            json.dumps(["v"]),
            uuid.uuid4(),
            state,
            in_flight,
            released_s_ago,
        )
    return campaign_id


async def admitted(pool: asyncpg.Pool, campaign_id: uuid.UUID, seq: int) -> None:
    """The send path recorded recipient ``seq``'s request (its message row exists)."""
    request = await pool.fetchval(
        "SELECT request_event_id FROM notifier.campaign_recipients"
        " WHERE campaign_id = $1 AND seq = $2",
        campaign_id,
        seq,
    )
    await pool.execute(
        "INSERT INTO notifier.messages (request_event_id, tenant_id, channel,"
        " channel_account_id, contact_key, recipient, content_type, content, campaign_id,"
        " correlation_id, requested_at)"
        " VALUES ($1, 'acme', 'whatsapp', '100', $2, '+573000000000', 'template', '{}', $3,"
        " 'c', $4)",
        request,
        f"key-{seq}",
        str(campaign_id),
        datetime.now(UTC),
    )


async def test_only_releases_in_flight_without_a_request_are_published_again(
    pool: asyncpg.Pool,
) -> None:
    campaign_id = await campaign_with(
        pool,
        [
            ("released", True, RELEASED_LONG_AGO),  # its publish was lost
            ("released", True, RELEASED_LONG_AGO),  # the send path has it
            ("released", False, RELEASED_LONG_AGO),  # its outcome is recorded
            ("released", True, JUST_RELEASED),  # just released: its publish may be on its way
            ("pending", False, None),
        ],
    )
    await admitted(pool, campaign_id, 1)
    store = RecipientStore(pool, b"secret")
    again = await store.unanswered_releases(campaign_id, older_than_s=30)
    assert [(r.seq, r.releases) for r in again] == [(0, 2)]
    assert await store.unanswered_releases(campaign_id, older_than_s=30) == []  # now recent


async def test_pending_recipients_are_found_before_and_past_where_releases_start(
    pool: asyncpg.Pool,
) -> None:
    campaign_id = await campaign_with(
        pool,
        [
            ("released", True, JUST_RELEASED),
            ("pending", False, None),  # given back by a pause: behind the next release
            ("released", True, JUST_RELEASED),
            ("released", False, JUST_RELEASED),
        ],
    )
    store = RecipientStore(pool, b"secret")
    assert await store.remaining(campaign_id, from_seq=3) == (True, 2)
    assert await store.remaining(campaign_id, from_seq=0) == (True, 2)
    await pool.execute(
        "UPDATE notifier.campaign_recipients SET state = 'released' WHERE campaign_id = $1",
        campaign_id,
    )
    assert await store.remaining(campaign_id, from_seq=3) == (False, 2)


async def test_releases_that_could_not_be_published_go_back_to_pending(
    pool: asyncpg.Pool,
) -> None:
    campaign_id = await campaign_with(
        pool,
        [
            ("released", True, JUST_RELEASED),  # its values fit no message: put back
            ("released", True, JUST_RELEASED),  # published
            ("cancelled", False, None),  # not released: left alone
        ],
    )
    store = RecipientStore(pool, b"secret")

    await store.put_back(campaign_id, [0, 2])

    states = await pool.fetch(
        "SELECT state, in_flight FROM notifier.campaign_recipients"
        " WHERE campaign_id = $1 ORDER BY seq",
        campaign_id,
    )
    assert [tuple(row) for row in states] == [
        ("pending", False),
        ("released", True),
        ("cancelled", False),
    ]
    assert await store.remaining(campaign_id, from_seq=3) == (True, 1)
