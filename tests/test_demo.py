"""`make demo` on the stack `make run` starts: the scripted customer pays, and the
trace of the paying turn runs through every hop, across processes, in the span file."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from cauce_devstack.demo.run import render
from cauce_devstack.demo.script import run_demo
from cauce_devstack.testing import free_ports, launched

PHONE = re.compile(r"57300\d{7}")


def test_demo_conversation_and_one_trace_per_turn(tmp_path: Path) -> None:
    ports = free_ports()
    home = tmp_path / ".cauce"
    with launched(home, ports) as stack:
        stack.wait_ready(timeout=150)
        result = asyncio.run(
            run_demo(f"http://127.0.0.1:{ports['sandbox']}", home / "traces" / "spans.jsonl")
        )
        stack.interrupt(timeout=90)

    transcript = result.transcript
    assert "👤 Hola" in transcript
    assert "$ 954.688" in transcript
    assert "[ Pagar ahora ] -> http" in transcript
    assert "Pago confirmado" in transcript

    assert result.trace_id, render(result)
    spans = [
        span
        for span in map(json.loads, (home / "traces" / "spans.jsonl").read_text().splitlines())
        if span.get("trace_id") == result.trace_id
    ]
    services = {span["service"] for span in spans}
    assert {"gateway", "conversation", "payments", "notifier"} <= services, services
    kinds = {(span["service"], span["kind"]) for span in spans}
    # webhook in, SCI TOTAL called, the Graph API called: one trace from end to end
    assert ("gateway", "SERVER") in kinds
    assert ("payments", "CLIENT") in kinds
    assert ("notifier", "CLIENT") in kinds
    consumed = {
        span["attributes"].get("cauce.event_type") for span in spans if span["kind"] == "CONSUMER"
    }
    assert {
        "inbound.message.received",
        "payments.link.requested",
        "payments.link.created",
    } <= consumed
    assert "outbound.message.requested" in consumed
    # every span but the webhook's has its parent in the same trace
    ids = {span["span_id"] for span in spans}
    roots = [span for span in spans if span.get("parent_span_id") not in ids]
    assert len(roots) == 1 and roots[0]["service"] == "gateway", [r["name"] for r in roots]
    # no phone number in any span attribute
    for span in spans:
        assert not PHONE.search(json.dumps(span["attributes"])), span["name"]
