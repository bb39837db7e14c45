"""A campaign is observable: each recipient's send is a trace of its own, from the
dispatcher's release to the Graph call, linked to the request that started the
campaign; releases and state changes are counted at /metrics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cauce_runtime import ServiceSettings, Telemetry, setup_telemetry

from .conftest import Stack
from .test_campaigns import SEED_CSV, api, new_campaign, stack, until_status, upload
from .test_provider_metrics import sample, scrape

__all__ = ["stack"]  # the campaigns' fixture, shared


@pytest.fixture
def telemetry(tmp_path: Path) -> Iterator[Telemetry]:
    """Spans of this process (the notifier runs in it) in the test's span file, as
    ``python -m cauce_notifier`` would write them."""
    installed = setup_telemetry(
        ServiceSettings(environment="test", span_file=tmp_path / "spans.jsonl", _env_file=None)  # type: ignore[call-arg]
    )
    yield installed
    installed.shutdown()  # later tests' spans are not written here


def spans_in(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def test_each_send_is_its_own_trace_linked_to_the_start(
    telemetry: Telemetry, stack: Stack, tmp_path: Path
) -> None:
    before = await scrape(stack)
    campaign_id = await new_campaign(stack)
    await upload(stack, campaign_id, SEED_CSV)
    started = await api(stack, "POST", f"/api/v1/campaigns/{campaign_id}/start")
    assert started.status_code == 200, started.text
    await until_status(stack, campaign_id, "COMPLETED")

    span_file = tmp_path / "spans.jsonl"

    def graph_calls() -> dict[str, dict[str, Any]]:
        return {
            s["trace_id"]: s
            for s in spans_in(span_file)
            if s["kind"] == "CLIENT" and "/graph/" in str(s["attributes"].get("url.full", ""))
        }

    def sends() -> list[dict[str, Any]]:
        return [
            s
            for s in spans_in(span_file)
            if s["name"] == "campaign send"
            and s["attributes"].get("cauce.campaign_id") == campaign_id
        ]

    async def exported() -> bool:
        found = sends()
        return len(found) == 2 and all(s["trace_id"] in graph_calls() for s in found)

    await stack.wait_for(exported, what="both sends' traces to reach the Graph call")
    start_spans = [
        s
        for s in spans_in(span_file)
        if s["kind"] == "SERVER" and s["name"].endswith("/{campaign_id}/start")
    ]
    assert len(start_spans) == 1
    start = start_spans[0]
    found = sends()
    assert len({s["trace_id"] for s in found} | {start["trace_id"]}) == 3
    for send in found:
        assert send["parent_span_id"] is None
        assert send["links"] == [{"trace_id": start["trace_id"], "span_id": start["span_id"]}]
        # no phone number on the span: the recipient is its position in the campaign
        assert "573001234567" not in json.dumps(send)

    after = await scrape(stack)
    running = {"to": "RUNNING", "by": "operator"}
    changes = "cauce_campaign_state_changes_total"
    assert sample(after, changes, **running) - sample(before, changes, **running) == 1
    done = {"to": "COMPLETED"}
    assert sample(after, changes, **done) - sample(before, changes, **done) == 1
    released = {"outcome": "released"}
    releases = "cauce_campaign_releases_total"
    assert sample(after, releases, **released) - sample(before, releases, **released) == 2
