"""How far a campaign got, read from what the send path recorded, and its event feed.

Counts come from each recipient's message and its status timeline
(``notifier.messages``), never from counters of their own that could drift from it:
``sent`` is every message the provider accepted (it has a ``sent_at``), ``delivered``
and ``read`` likewise, ``failed`` the messages whose last status is failed (with the
provider's code), ``replied`` the recipients who wrote to the number after their
campaign message was sent, ``clicked`` the recipients who opened a short link of theirs.

The feed (``notifier.campaign_events``) is what the progress stream replays: state
changes as they happen and a progress snapshot every second while a campaign runs;
its ids are the stream's event ids, so a client reconnecting with ``Last-Event-ID``
misses nothing and sees nothing twice.
"""

from __future__ import annotations

import builtins
import json
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Protocol

import asyncpg

#: Every count and the cost's inputs in one pass over the campaign's recipients (with
#: their current message and the customer's last message to the number), grouped by
#: what the counts and the rate card tell apart: a few dozen rows whatever the size of
#: the audience. Since per-message pricing (2025-07-01) only ``type = regular`` is
#: billed; earlier webhooks only say ``billable``.
_TALLY = """
SELECT
    r.state, m.status, r.country, m.pricing_category AS category,
    count(*) AS recipients,
    count(m.sent_at) AS sent,
    count(m.delivered_at) AS delivered,
    count(m.read_at) AS read,
    count(*) FILTER (WHERE w.last_inbound_at > m.sent_at) AS replied,
    count(*) FILTER (WHERE m.pricing_type = 'regular'
                     OR (m.pricing_type IS NULL AND m.billable)) AS billed
FROM notifier.campaign_recipients r
LEFT JOIN notifier.messages m ON m.request_event_id = r.request_event_id
LEFT JOIN notifier.contact_windows w
    ON w.tenant_id = m.tenant_id AND w.channel = m.channel
   AND w.channel_account_id = m.channel_account_id AND w.contact_key = m.contact_key
WHERE r.campaign_id = $1
GROUP BY 1, 2, 3, 4
"""

#: Recipients who opened one of their short links: a recipient who clicked twice, or
#: two of their links, is one (link previews are not clicks; see the short links API).
_CLICKED = """
SELECT count(DISTINCT recipient_seq) FROM notifier.short_links
WHERE campaign_id = $1 AND first_clicked_at IS NOT NULL
"""

#: By the recipients' current attempts, as ``failed`` counts them: a failure that
#: retry-failed sent again is no longer one.
_FAILED_BY_CODE = """
SELECT coalesce(m.error_code, 'unknown') AS code, min(m.error_title) AS title,
    count(*) AS count
FROM notifier.messages m
JOIN notifier.campaign_recipients r ON r.request_event_id = m.request_event_id
WHERE m.campaign_id = $1 AND r.campaign_id = $2 AND m.status = 'failed'
GROUP BY 1 ORDER BY count DESC, code
"""


@dataclass(frozen=True)
class FailureCount:
    code: str
    title: str | None
    count: int


@dataclass(frozen=True)
class Cost:
    currency: str
    #: What the messages Meta reported as billed cost so far.
    billed: float
    billed_messages: int
    #: ``billed`` plus what the recipients still to send would cost.
    estimated_total: float


@dataclass(frozen=True)
class CampaignStats:
    recipients: int = 0
    pending: int = 0
    queued: int = 0
    suppressed: int = 0
    cancelled: int = 0
    sent: int = 0
    delivered: int = 0
    read: int = 0
    failed: int = 0
    replied: int = 0
    clicked: int = 0
    failed_by_code: tuple[FailureCount, ...] = field(default=())
    cost: Cost | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Prices(Protocol):
    """A rate card (:class:`~cauce_notifier.settings.RateCard`)."""

    @property
    def currency(self) -> str: ...

    def price(self, country: str | None, category: str) -> float: ...


async def campaign_stats(
    pool: asyncpg.Pool,
    campaign_id: uuid.UUID,
    *,
    prices: Prices | None = None,
    category: str | None = None,
) -> CampaignStats:
    """The counts; with ``prices`` and the template's ``category``, the cost too."""
    async with pool.acquire() as connection:
        tally = await connection.fetch(_TALLY, campaign_id)
        clicked = await connection.fetchval(_CLICKED, campaign_id)
        failed = any(row["status"] == "failed" for row in tally)
        failures = (
            await connection.fetch(_FAILED_BY_CODE, str(campaign_id), campaign_id) if failed else []
        )
    cost = _cost(prices, category, tally) if prices is not None and category is not None else None
    return CampaignStats(
        **_counts(tally),
        clicked=int(clicked),
        failed_by_code=tuple(FailureCount(r["code"], r["title"], r["count"]) for r in failures),
        cost=cost,
    )


def _waiting(row: Any) -> bool:
    """Not sent yet: pending, or released with no outcome so far (queued)."""
    return row["state"] == "pending" or (
        row["state"] == "released" and row["status"] in (None, "requested")
    )


def _counts(tally: list[Any]) -> dict[str, int]:
    def total(column: str, where: Callable[[Any], bool] = lambda row: True) -> int:
        return sum(int(row[column]) for row in tally if where(row))

    return {
        "recipients": total("recipients"),
        "pending": total("recipients", lambda row: row["state"] == "pending"),
        "queued": total("recipients", lambda row: _waiting(row) and row["state"] != "pending"),
        "suppressed": total("recipients", lambda row: row["state"] == "suppressed"),
        "cancelled": total("recipients", lambda row: row["state"] == "cancelled"),
        "sent": total("sent"),
        "delivered": total("delivered"),
        "read": total("read"),
        "failed": total("recipients", lambda row: row["status"] == "failed"),
        "replied": total("replied"),
    }


def _cost(prices: Prices, category: str, tally: list[Any]) -> Cost:
    """What the billed messages cost (in the category Meta priced each in) and what the
    recipients still to send would (in the template's)."""
    spent = sum(
        prices.price(row["country"], row["category"] or category) * row["billed"] for row in tally
    )
    rest = sum(
        prices.price(row["country"], category) * row["recipients"] for row in tally if _waiting(row)
    )
    return Cost(
        currency=prices.currency,
        billed=round(spent, 4),
        billed_messages=sum(int(row["billed"]) for row in tally),
        estimated_total=round(spent + rest, 4),
    )


@dataclass(frozen=True)
class FeedEvent:
    id: int
    campaign_id: uuid.UUID
    kind: str
    data: dict[str, Any]
    at: datetime


async def feed_after(
    pool: asyncpg.Pool,
    tenant_id: str,
    after_id: int,
    *,
    campaign_id: uuid.UUID | None = None,
    limit: int = 200,
) -> builtins.list[FeedEvent]:
    """The tenant's feed events after ``after_id`` (of one campaign when given)."""
    rows = await pool.fetch(
        "SELECT id, campaign_id, kind, data, at FROM notifier.campaign_events"
        " WHERE tenant_id = $1 AND id > $2 AND ($3::uuid IS NULL OR campaign_id = $3)"
        " ORDER BY id LIMIT $4",
        tenant_id,
        after_id,
        campaign_id,
        limit,
    )
    return [
        FeedEvent(r["id"], r["campaign_id"], r["kind"], json.loads(r["data"]), r["at"])
        for r in rows
    ]


async def latest_feed_id(pool: asyncpg.Pool, tenant_id: str) -> int:
    """The tenant's newest feed id: a stream opened without ``Last-Event-ID`` sends the
    campaigns' current state, then what happens after this id."""
    value = await pool.fetchval(
        "SELECT coalesce(max(id), 0) FROM notifier.campaign_events WHERE tenant_id = $1", tenant_id
    )
    return int(value)
