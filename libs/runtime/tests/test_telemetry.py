"""Span file export, case-insensitive context extraction, and the trace tree CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path

from opentelemetry import trace
from opentelemetry.trace import SpanKind

from cauce_runtime import ServiceSettings, extract_context, inject_headers, setup_telemetry
from cauce_runtime.telemetry import traces

GO_TRACE = "0af7651916cd43dd8448eb211c80319c"


def test_extract_is_case_insensitive() -> None:
    for name in ("traceparent", "Traceparent", "TRACEPARENT"):
        context = extract_context({name: f"00-{GO_TRACE}-b7ad6b7169203331-01"})
        span_context = trace.get_current_span(context).get_span_context()
        assert f"{span_context.trace_id:032x}" == GO_TRACE


def test_inject_writes_the_current_span(tmp_path: Path) -> None:
    setup_telemetry(ServiceSettings(span_file=tmp_path / "s.jsonl", _env_file=None))
    with trace.get_tracer("test").start_as_current_span("outer") as span:
        headers = inject_headers({})
    assert headers["traceparent"].split("-")[1] == f"{span.get_span_context().trace_id:032x}"


def test_spans_are_written_as_json_lines_and_printed_as_a_tree(tmp_path: Path) -> None:
    span_file = tmp_path / "spans.jsonl"
    telemetry = setup_telemetry(
        ServiceSettings(service_name="gateway", span_file=span_file, _env_file=None)
    )
    tracer = trace.get_tracer("test")
    with (
        tracer.start_as_current_span("POST /webhooks/whatsapp", kind=SpanKind.SERVER) as root,
        tracer.start_as_current_span("publish inbound.message.received", kind=SpanKind.PRODUCER),
    ):
        carrier = inject_headers({})
    with tracer.start_as_current_span(
        "process conversation_inbound", context=extract_context(carrier)
    ):
        pass
    assert telemetry.force_flush()

    written = [json.loads(line) for line in span_file.read_text().splitlines()]
    trace_id = f"{root.get_span_context().trace_id:032x}"
    ours = [s for s in written if s["trace_id"] == trace_id]
    assert {s["name"] for s in ours} == {
        "POST /webhooks/whatsapp",
        "publish inbound.message.received",
        "process conversation_inbound",
    }
    by_name = {s["name"]: s for s in ours}
    assert by_name["POST /webhooks/whatsapp"]["parent_span_id"] is None
    assert (
        by_name["process conversation_inbound"]["parent_span_id"]
        == (by_name["publish inbound.message.received"]["span_id"])
    )
    assert by_name["publish inbound.message.received"]["kind"] == "PRODUCER"
    for key in ("start", "end", "attributes", "status", "service"):
        assert key in by_name["POST /webhooks/whatsapp"]

    out = io.StringIO()
    assert traces.main(["--file", str(span_file), "--trace-id", trace_id], out=out) == 0
    tree = out.getvalue().splitlines()
    assert tree[0].startswith(f"trace {trace_id} (3 spans")
    assert tree[1].startswith("POST /webhooks/whatsapp")
    assert tree[2].startswith("  publish inbound.message.received")
    assert tree[3].startswith("    process conversation_inbound")


def _span(trace: str, span: str, name: str, start: str, end: str, **extra: object) -> str:
    return json.dumps(
        {
            "trace_id": trace * 32,
            "span_id": span * 16,
            "parent_span_id": None,
            "name": name,
            "kind": "SERVER",
            "start": f"2026-01-0{start}+00:00",
            "end": f"2026-01-0{end}+00:00",
            "duration_ms": 1.0,
            "service": "gateway",
            **extra,
        }
    )


def test_traces_cli_lists_recent_traces_and_prints_one_by_id_prefix_or_latest(
    tmp_path: Path,
) -> None:
    span_file = tmp_path / "spans.jsonl"
    old = _span("a", "1", "old", "1T00:00:00", "1T00:00:00.250000")
    new = _span("b", "2", "new", "2T00:00:00", "2T00:00:01")
    child = json.dumps(
        {
            **json.loads(
                _span("b", "3", "process notifier-requests", "2T00:00:00.5", "2T00:00:01")
            ),
            "parent_span_id": "2" * 16,
            "service": "notifier",
            "kind": "CONSUMER",
            "status": {"code": "ERROR"},
        }
    )
    span_file.write_text("\n".join((old, new, child)) + "\n{torn line\n")

    listing = io.StringIO()
    assert traces.main(["--file", str(span_file)], out=listing) == 0
    lines = listing.getvalue().splitlines()
    # newest first: root name, services, spans, end-to-end duration, errors
    assert "b" * 32 in lines[0] and "new" in lines[0]
    assert "2 svc" in lines[0] and "2 spans" in lines[0] and "1000.0ms" in lines[0]
    assert "1 ERROR" in lines[0] and "[gateway, notifier]" in lines[0]
    assert "a" * 32 in lines[1] and "old" in lines[1] and "250.0ms" in lines[1]
    limited = io.StringIO()
    assert traces.main(["--file", str(span_file), "--limit", "1"], out=limited) == 0
    assert "a" * 32 not in limited.getvalue()

    tree = io.StringIO()
    assert traces.main(["--file", str(span_file), "--trace-id", "bbbb"], out=tree) == 0
    printed = tree.getvalue().splitlines()
    assert printed[0].startswith(f"trace {'b' * 32} (2 spans")
    assert printed[1].startswith("new [gateway] SERVER 1.0ms @+0.0ms")
    assert printed[2].startswith("  process notifier-requests [notifier] CONSUMER 1.0ms @+500.0ms")
    assert printed[2].endswith("ERROR")

    latest = io.StringIO()
    assert traces.main(["--file", str(span_file), "--trace-id", "latest"], out=latest) == 0
    assert latest.getvalue() == tree.getvalue()

    assert traces.main(["--file", str(span_file), "--trace-id", "cccc"], out=io.StringIO()) == 1
    assert traces.main(["--file", str(tmp_path / "missing.jsonl")], out=io.StringIO()) == 1
