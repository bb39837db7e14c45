"""A running campaign meets Meta's per-send refusals, as the Graph fake answers them:
131049 (the per-user marketing cap) for two recipients, 131056 (the business/customer
pair rate) for one, and 130429 (the number's throughput) for a burst of sends.

What each must come to, read from what reached the fake (the sandbox's outbox, with
its refusals) and from the campaign's stats:

- a 131049 fails that recipient with its code and is never sent again by the send
  path, nor by ``retry-failed`` within 24 h (``left`` counts it); 24 h later it is;
- a 131056 or a 130429 is retried after its back-off (the pair back-off; the
  ``Retry-After``), and ends sent exactly once;
- nobody is sent twice, and the campaign completes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest

from cauce_devstack.servers import NatsServer

from .conftest import Stack
from .test_campaigns import api, campaign_stack, csv_of, new_campaign, stats, until_status, upload

RECIPIENTS = 40
#: ``csv_of``'s numbers: the 3rd and 6th recipients hit the marketing cap, the 9th the
#: pair rate (early in the list: they are refused before the 130429 burst is armed).
CAPPED = ("+573001200002", "+573001200005")
PAIRED = "+573001200008"
#: The 130429 burst: the next sends, whoever they are for, with ``Retry-After: 1``.
THROTTLED_SENDS = 6
RETRY_AFTER_S = 1
#: The notifier's pair back-off when Meta gives no Retry-After (it never does for
#: 131056) is 60 s; the test shortens it to keep the campaign short.
PAIR_BACKOFF_S = 2.0
#: A refusal is recorded just after the fake answered it; the retry may start that
#: much "before" its back-off is over, as the fake's clock sees it.
CLOCK_SLACK_S = 0.1


def error_code(entry: dict[str, Any]) -> int | None:
    error = entry.get("error")
    if isinstance(error, dict) and isinstance(error.get("error"), dict):
        code: int | None = error["error"].get("code")
        return code
    return None


def at(entry: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(entry["received_at"])


async def graph_sends(stack: Stack) -> list[dict[str, Any]]:
    """Every send that reached the Graph fake, accepted (``message``) or refused."""
    answer = await stack.http.get(
        f"{stack.sandbox_url}/sandbox/outbox",
        params={"provider": "graph", "include_refused": "true"},
    )
    return [e for e in answer.json() if e["kind"] in ("message", "refused")]


async def arm(stack: Stack, **fault: Any) -> None:
    armed = await stack.http.post(f"{stack.sandbox_url}/sandbox/faults", json=fault)
    assert armed.status_code == 201, armed.text


async def armed_faults(http: httpx.AsyncClient, sandbox_url: str) -> list[dict[str, Any]]:
    faults: list[dict[str, Any]] = (await http.get(f"{sandbox_url}/sandbox/faults")).json()
    return faults


async def test_refusals_fail_the_capped_and_retry_the_throttled_each_once(
    nats_server: NatsServer,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("cauce_notifier.delivery.PAIR_BACKOFF_S", PAIR_BACKOFF_S)
    async with campaign_stack(nats_server, database_url, tmp_path, rate=20) as stack:
        for phone in CAPPED:
            await arm(stack, kind="refusal", code=131049, recipient=phone)
        await arm(stack, kind="refusal", code=131056, recipient=PAIRED)
        campaign_id = await new_campaign(stack)
        loaded = await upload(stack, campaign_id, csv_of(RECIPIENTS))
        assert loaded.json()["accepted"] == RECIPIENTS
        started = await api(stack, "POST", f"/api/v1/campaigns/{campaign_id}/start")
        assert started.status_code == 200, started.text

        async def refused_per_recipient() -> bool:
            return await armed_faults(stack.http, stack.sandbox_url) == []

        await stack.wait_for(refused_per_recipient, what="the 131049s and the 131056")
        assert (await stats(stack, campaign_id))["status"] == "RUNNING"
        # Meta's throughput limit, mid-campaign: the next sends get 130429
        await arm(stack, kind="429", count=THROTTLED_SENDS, retry_after=RETRY_AFTER_S)
        await stack.wait_for(refused_per_recipient, what="the 130429 burst")
        await until_status(stack, campaign_id, "COMPLETED", timeout=30)

        sends = await graph_sends(stack)
        by_recipient: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for entry in sends:
            by_recipient[entry["to"]].append(entry)
        accepted = Counter(e["to"] for e in sends if e["kind"] == "message")
        everyone = {f"+5730012{i:05d}" for i in range(RECIPIENTS)}
        # nobody twice; everyone but the capped once
        assert set(accepted) == everyone - set(CAPPED)
        assert set(accepted.values()) == {1}

        # the capped: one request each, refused 131049, never tried again
        for phone in CAPPED:
            assert [(e["kind"], error_code(e)) for e in by_recipient[phone]] == [
                ("refused", 131049)
            ]

        # the pair rate and the throughput burst: each refusal is retried, no sooner
        # than its back-off, until the send is accepted
        assert [error_code(e) for e in by_recipient[PAIRED]].count(131056) == 1
        throttled = [e for e in sends if error_code(e) == 130429]
        assert len(throttled) == THROTTLED_SENDS
        assert all(e["status"] == 429 for e in throttled)
        backoff_s = {131056: PAIR_BACKOFF_S, 130429: RETRY_AFTER_S}
        for phone in {PAIRED} | {e["to"] for e in throttled}:
            attempts = by_recipient[phone]  # in the order they reached the fake
            assert attempts[-1]["kind"] == "message"
            for refused, retry in pairwise(attempts):
                waited = (at(retry) - at(refused)).total_seconds()
                assert waited >= backoff_s[error_code(refused)] - CLOCK_SLACK_S, (phone, waited)

        counts = await stats(stack, campaign_id)
        assert (counts["sent"], counts["failed"], counts["pending"], counts["queued"]) == (
            RECIPIENTS - len(CAPPED),
            len(CAPPED),
            0,
            0,
        )
        assert [(f["code"], f["count"]) for f in counts["failed_by_code"]] == [
            ("131049", len(CAPPED))
        ]
        rows = await api(stack, "GET", f"/api/v1/campaigns/{campaign_id}/recipients?status=failed")
        assert sorted((r["phone"], r["error_code"]) for r in rows.json()["items"]) == [
            (phone, "131049") for phone in CAPPED
        ]

        # within 24 h of the refusal, retry-failed leaves the capped where they are
        retried = await api(stack, "POST", f"/api/v1/campaigns/{campaign_id}/retry-failed")
        assert retried.json() == {"requeued": 0, "left": len(CAPPED)}
        assert (await stats(stack, campaign_id))["status"] == "COMPLETED"

        # a day later, they are worth another attempt: sent once each
        async with stack.db() as db:
            await db.execute(
                "UPDATE notifier.messages SET failed_at = failed_at - interval '24 hours 1 minute'"
                " WHERE campaign_id = $1 AND error_code = '131049'",
                campaign_id,
            )
        retried = await api(stack, "POST", f"/api/v1/campaigns/{campaign_id}/retry-failed")
        assert retried.json() == {"requeued": len(CAPPED), "left": 0}
        await until_status(stack, campaign_id, "COMPLETED", timeout=15)
        accepted = Counter(e["to"] for e in await graph_sends(stack) if e["kind"] == "message")
        assert set(accepted) == everyone and set(accepted.values()) == {1}
