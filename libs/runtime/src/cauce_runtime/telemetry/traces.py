"""List recent traces from the local JSON-lines span file, or print one as a tree.

    python -m cauce_runtime.telemetry.traces [--file .cauce/traces/spans.jsonl] [--limit N]
    python -m cauce_runtime.telemetry.traces --trace-id ID|PREFIX|latest

Without ``--trace-id`` the most recent traces are listed, newest first: when each
started, its id, the root span's name, how many services and spans took part, how long
it took end to end, and whether a span failed. With ``--trace-id`` (a full id, a
unique prefix of one, or ``latest``) that trace is printed as an indented tree: each
span's name, service, kind, duration, when it started relative to the trace, and the
attributes an SRE follows a message by. Spans of every service share the file, so one
tree shows the webhook, the events and the provider calls across services.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

DEFAULT_SPAN_FILE = Path(".cauce/traces/spans.jsonl")
DEFAULT_LIMIT = 20
#: Shown after each span (the span's name already says the durable, the route template
#: or the query summary).
_SHOWN_ATTRIBUTES = (
    "messaging.destination.name",
    "messaging.nats.stream",
    "messaging.nats.sequence",
    "messaging.nats.delivery_count",
    "http.response.status_code",
    "url.full",
    "error.type",
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


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class TraceSummary:
    """One trace at a glance, as ``make traces`` lists it."""

    trace_id: str
    root: str
    services: tuple[str, ...]
    spans: int
    start: datetime | None
    duration_ms: float | None
    errors: int

    def line(self) -> str:
        when = self.start.strftime("%Y-%m-%d %H:%M:%S") if self.start else "?"
        took = f"{self.duration_ms:.1f}ms" if self.duration_ms is not None else "?"
        flag = f"  {self.errors} ERROR" if self.errors else ""
        return (
            f"{when}  {self.trace_id}  {took:>10}  {len(self.services)} svc {self.spans:>3} spans"
            f"  {self.root}  [{', '.join(self.services)}]{flag}"
        )


def _roots(spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Spans whose parent is not in the file, earliest first (normally just one)."""
    ids = {span.get("span_id") for span in spans}
    roots = [span for span in spans if span.get("parent_span_id") not in ids]
    return sorted(roots, key=lambda s: s.get("start") or "")


def summarize(spans: Iterable[dict[str, Any]]) -> list[TraceSummary]:
    """One summary per trace in ``spans``, newest first."""
    by_trace: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for span in spans:
        by_trace[span["trace_id"]].append(span)
    summaries = []
    for trace_id, members in by_trace.items():
        starts = [t for t in (_parse_time(s.get("start")) for s in members) if t]
        ends = [t for t in (_parse_time(s.get("end")) for s in members) if t]
        first, last = (min(starts) if starts else None), (max(ends) if ends else None)
        roots = _roots(members)
        summaries.append(
            TraceSummary(
                trace_id=trace_id,
                root=str(roots[0].get("name")) if roots else "?",
                services=tuple(sorted({str(s.get("service")) for s in members})),
                spans=len(members),
                start=first,
                duration_ms=(last - first).total_seconds() * 1000 if first and last else None,
                errors=sum(1 for s in members if (s.get("status") or {}).get("code") == "ERROR"),
            )
        )
    summaries.sort(key=lambda s: s.start.timestamp() if s.start else 0.0, reverse=True)
    return summaries


def _line(span: dict[str, Any], depth: int, origin: datetime | None) -> str:
    attributes = span.get("attributes") or {}
    shown = " ".join(f"{k}={attributes[k]}" for k in _SHOWN_ATTRIBUTES if k in attributes)
    status = (span.get("status") or {}).get("code")
    flag = " ERROR" if status == "ERROR" else ""
    duration = span.get("duration_ms")
    took = f"{duration:.1f}ms" if isinstance(duration, int | float) else "?"
    start = _parse_time(span.get("start"))
    at = f" @+{(start - origin).total_seconds() * 1000:.1f}ms" if start and origin else ""
    head = f"{'  ' * depth}{span.get('name')} [{span.get('service')}] {span.get('kind', '')}"
    return f"{head} {took}{at}{flag}" + (f"  {shown}" if shown else "")


def render_tree(spans: list[dict[str, Any]]) -> Iterator[str]:
    """Lines of the tree: children under their parent, siblings by start time; each
    span with its duration and its start relative to the trace's first span."""
    ids = {span["span_id"] for span in spans}
    children: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for span in spans:
        parent = span.get("parent_span_id")
        # A parent not in the file (another process not exporting here) makes a root.
        children[parent if parent in ids else None].append(span)
    for siblings in children.values():
        siblings.sort(key=lambda s: s.get("start") or "")
    starts = [t for t in (_parse_time(s.get("start")) for s in spans) if t]
    origin = min(starts) if starts else None

    def walk(parent: str | None, depth: int) -> Iterator[str]:
        for span in children.get(parent, []):
            yield _line(span, depth, origin)
            yield from walk(span["span_id"], depth + 1)

    yield from walk(None, 0)


def resolve_trace_id(spans: list[dict[str, Any]], wanted: str) -> str | None:
    """A full trace id, the one trace a prefix names, or the latest for ``latest``."""
    if wanted == "latest":
        return latest_trace_id(spans)
    ids = {span["trace_id"] for span in spans}
    if wanted in ids:
        return wanted
    matches = {trace_id for trace_id in ids if trace_id.startswith(wanted)}
    return matches.pop() if len(matches) == 1 else None


def print_tree(spans: list[dict[str, Any]], trace_id: str, out: TextIO) -> None:
    selected = [span for span in spans if span["trace_id"] == trace_id]
    services = sorted({str(s.get("service")) for s in selected})
    print(f"trace {trace_id} ({len(selected)} spans; services: {', '.join(services)})", file=out)
    for line in render_tree(selected):
        print(line, file=out)


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cauce_runtime.telemetry.traces", description=__doc__.split("\n")[1]
    )
    parser.add_argument(
        "--file", type=Path, default=DEFAULT_SPAN_FILE, help="span file (JSON lines)"
    )
    parser.add_argument(
        "--trace-id", help="print this trace as a tree (full id, unique prefix or 'latest')"
    )
    parser.add_argument(
        "--limit", type=int, default=DEFAULT_LIMIT, help="how many recent traces to list"
    )
    args = parser.parse_args(argv)
    if not args.file.exists():
        print(f"no span file at {args.file}", file=sys.stderr)
        return 1
    spans = read_spans(args.file)
    if args.trace_id is None:
        summaries = summarize(spans)[: max(args.limit, 0)]
        if not summaries:
            print(f"no traces in {args.file}", file=sys.stderr)
            return 1
        for summary in summaries:
            print(summary.line(), file=out)
        print("print one: make traces TRACE=<id or unique prefix>", file=out)
        return 0
    trace_id = resolve_trace_id(spans, args.trace_id)
    if trace_id is None:
        print(f"no spans for trace {args.trace_id} (or the prefix is ambiguous)", file=sys.stderr)
        return 1
    print_tree(spans, trace_id, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
