"""The send limiter on a real PostgreSQL: conversation replies go ahead of a campaign's
queued sends, and the number's provider still sees no more than its limit in a second."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest

from cauce_notifier.rate_limit import (
    DEFAULT_HEADROOM,
    MAX_REPLIES_AHEAD,
    SLOW_NUMBER_CAMPAIGN_REACH_S,
    SendRateLimiter,
    SendSlotTooFar,
    replies_ahead_burst,
)

#: A campaign send's slot is at most this far ahead (CAUCE_CAMPAIGN_SLOT_WAIT_S).
CAMPAIGN_WAIT_S = 0.1
REPLY_SHARE = 0.03


def limiter(pool: asyncpg.Pool) -> SendRateLimiter:
    return SendRateLimiter(pool, reply_share=REPLY_SHARE, reply_ahead_within_s=CAMPAIGN_WAIT_S)


@pytest.mark.parametrize(("rate", "burst"), [(10, 0), (100, 0), (200, 1), (500, 2), (5000, 2)])
def test_replies_go_ahead_only_where_the_headroom_has_room(rate: int, burst: int) -> None:
    assert replies_ahead_burst(rate, DEFAULT_HEADROOM, REPLY_SHARE, CAMPAIGN_WAIT_S) == burst
    assert burst <= MAX_REPLIES_AHEAD


@pytest.mark.parametrize(
    ("rate", "reach_s"), [(80, SLOW_NUMBER_CAMPAIGN_REACH_S), (500, CAMPAIGN_WAIT_S)]
)
def test_a_campaign_keeps_its_queue_short_where_replies_cannot_go_ahead(
    rate: int, reach_s: float
) -> None:
    # on a slow number a reply waits behind the campaign's queue: it is kept short
    slots = SendRateLimiter(None, reply_share=REPLY_SHARE, reply_ahead_within_s=CAMPAIGN_WAIT_S)  # type: ignore[arg-type]
    assert slots.campaign_reach_s(rate, CAMPAIGN_WAIT_S) == reach_s


async def queue_campaign_sends(slots: SendRateLimiter, account: str, rate: float) -> None:
    """Campaign sends reserving until the number's queue is as long as theirs may be."""
    while True:
        try:
            await slots.reserve("whatsapp", account, rate, max_wait_s=CAMPAIGN_WAIT_S)
        except SendSlotTooFar:
            return


async def test_a_reply_goes_ahead_of_a_campaigns_queue(pool: asyncpg.Pool) -> None:
    slots = limiter(pool)
    await queue_campaign_sends(slots, "fast", 500)

    assert await slots.reserve("whatsapp", "fast", 500, reply=True) == 0.0
    # a campaign send still waits its turn
    assert await slots.reserve("whatsapp", "fast", 500, max_wait_s=1.0) > 0.05


async def test_a_reply_keeps_its_place_behind_other_replies(pool: asyncpg.Pool) -> None:
    slots = limiter(pool)
    # ten replies queued together on a 500/s number: about 20 ms of them
    await asyncio.gather(
        *(slots.reserve("whatsapp", "replies", 500, reply=True) for _ in range(10))
    )

    assert await slots.reserve("whatsapp", "replies", 500, reply=True) > 0.01


async def test_on_a_slow_number_a_reply_queues(pool: asyncpg.Pool) -> None:
    slots = limiter(pool)
    await queue_campaign_sends(slots, "slow", 50)

    assert await slots.reserve("whatsapp", "slow", 50, reply=True) > 0.05


def most_in_one_second(starts: list[float]) -> int:
    ordered = sorted(starts)
    most, first = 0, 0
    for last, start in enumerate(ordered):
        while start - ordered[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


async def test_replies_go_first_and_the_number_stays_under_its_limit(
    pool: asyncpg.Pool,
) -> None:
    """Two seconds of a campaign keeping a 500/s number's queue full, with a reply every
    100 ms: no reply waits, and no second holds more starts than the limit."""
    slots, rate, account = limiter(pool), 500.0, "busy"
    starts: list[float] = []
    reply_waits: list[float] = []
    until = time.monotonic() + 2.0

    async def campaign_send() -> None:
        while time.monotonic() < until:
            try:
                wait = await slots.reserve("whatsapp", account, rate, max_wait_s=CAMPAIGN_WAIT_S)
            except SendSlotTooFar as exc:
                await asyncio.sleep(exc.retry_in_s)
                continue
            starts.append(time.monotonic() + wait)
            await asyncio.sleep(wait)

    async def replies() -> None:
        while time.monotonic() < until:
            wait = await slots.reserve("whatsapp", account, rate, reply=True)
            reply_waits.append(wait)
            starts.append(time.monotonic() + wait)
            await asyncio.sleep(0.1)

    await asyncio.gather(replies(), *(campaign_send() for _ in range(64)))

    assert len(reply_waits) >= 15
    assert max(reply_waits) == 0.0  # every reply went first
    assert len(starts) > 800  # the campaign kept the number busy
    # the limiter's 485/s grid, the replies ahead of it, and a little clock jitter
    assert most_in_one_second(starts) <= 495
