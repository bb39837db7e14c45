"""Print a trace from the local JSON-lines span file as an indented tree.

    python -m cauce_runtime.traces [--file .cauce/traces/spans.jsonl] [--trace-id ID]

Without ``--trace-id`` the most recent trace (by its last span's end) is printed.
Spans of every service share the file, so one tree shows the webhook, the events and
the provider calls across services.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

DEFAULT_SPAN_FILE = Path(".cauce/traces/spans.jsonl")
_SHOWN_ATTRIBUTES = (
    "messaging.destination.name",
    "messaging.consumer.group.name",
    "messaging.nats.delivery_count",
    "http.route",
    "http.response.status_code",
    "cauce.event_type",
)


def read_spans(path: Path) -> list[dict[str, Any]]:
    """Every span in the file; lines that are not JSON (a torn write) are skipped."""
    spans = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                span = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(span, dict) and span.get("trace_id"):
                spans.append(span)
    return spans


def latest_trace_id(spans: Iterable[dict[str, Any]]) -> str | None:
    last: dict[str, str] = {}
    for span in spans:
        end = span.get("end") or ""
        if end > last.get(span["trace_id"], ""):
            last[span["trace_id"]] = end
    return max(last, key=lambda trace_id: last[trace_id]) if last else None


def _line(span: dict[str, Any], depth: int) -> str:
    attributes = span.get("attributes") or {}
    shown = " ".join(f"{k}={attributes[k]}" for k in _SHOWN_ATTRIBUTES if k in attributes)
    status = (span.get("status") or {}).get("code")
    flag = " ERROR" if status == "ERROR" else ""
    duration = span.get("duration_ms")
    took = f"{duration:.1f}ms" if isinstance(duration, int | float) else "?"
    head = f"{'  ' * depth}{span.get('name')} [{span.get('service')}] {span.get('kind', '')}"
    return f"{head} {took}{flag}" + (f"  {shown}" if shown else "")


def render_tree(spans: list[dict[str, Any]]) -> Iterator[str]:
    """Lines of the tree: children under their parent, siblings by start time."""
    ids = {span["span_id"] for span in spans}
    children: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for span in spans:
        parent = span.get("parent_span_id")
        # A parent not in the file (another process not exporting here) makes a root.
        children[parent if parent in ids else None].append(span)
    for siblings in children.values():
        siblings.sort(key=lambda s: s.get("start") or "")

    def walk(parent: str | None, depth: int) -> Iterator[str]:
        for span in children.get(parent, []):
            yield _line(span, depth)
            yield from walk(span["span_id"], depth + 1)

    yield from walk(None, 0)


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cauce_runtime.traces", description=__doc__.split("\n")[1]
    )
    parser.add_argument(
        "--file", type=Path, default=DEFAULT_SPAN_FILE, help="span file (JSON lines)"
    )
    parser.add_argument("--trace-id", help="trace to print (default: the latest)")
    args = parser.parse_args(argv)
    if not args.file.exists():
        print(f"no span file at {args.file}", file=sys.stderr)
        return 1
    spans = read_spans(args.file)
    trace_id = args.trace_id or latest_trace_id(spans)
    selected = [span for span in spans if span["trace_id"] == trace_id]
    if not selected:
        print(f"no spans for trace {trace_id}", file=sys.stderr)
        return 1
    services = sorted({str(s.get("service")) for s in selected})
    print(f"trace {trace_id} ({len(selected)} spans; services: {', '.join(services)})", file=out)
    for line in render_tree(selected):
        print(line, file=out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
