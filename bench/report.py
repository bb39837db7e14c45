"""The printed result: one table of runs, the ratio, the targets and the event count."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass

from bench.stats import RunResult

#: Issue 19's targets, judged in one run: gateway / hand-written peer.
TRACED_PEER_TARGET = 1.0
UNTRACED_PEER_TARGET = 1.3
#: The ratios the issue measured before (for the report's "was" column).
TRACED_PEER_BEFORE = 0.34
UNTRACED_PEER_BEFORE = 0.50
P99_TARGET_MS = 25.0
TARGET_RATE = 500.0
TARGET_RATE_DURATION_S = 30.0
BATCH_TARGET_MS = 250.0
#: The note a closed-loop run carries: its servers' CPU microseconds per answered webhook.
CPU_NOTE = "cpu_us_per_request"


@dataclass(frozen=True)
class Report:
    concurrency: int
    duration_s: float
    rate: float
    rate_duration_s: float
    peer: RunResult
    #: The peer's work on bare ASGI: what the server and nats-py cost before any work.
    floor: RunResult
    gateway: RunResult
    untraced: RunResult
    two_processes: RunResult
    http_ceiling: RunResult
    bus_ceiling: RunResult
    fixed_rate: RunResult
    batch: RunResult
    batch_statuses: int
    #: (stream, messages it holds, messages expected, what the expectation counts)
    stream_counts: list[tuple[str, int, int, str]]


def machine() -> str:
    model = ""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next((ln.split(":", 1)[1].strip() for ln in cpuinfo if "model name" in ln), "")
    except OSError:
        pass
    cpus = f"{os.cpu_count()} CPUs" + (f" ({model})" if model else "")
    return f"{cpus}, Python {platform.python_version()}, {platform.system()} {platform.machine()}"


def _errors(result: RunResult) -> str:
    return ", ".join(f"{k}: {v}" for k, v in result.errors.items()) or "none"


def _row(label: str, result: RunResult, rate: str) -> str:
    return (
        f"  {label:<24}{rate:>10}{result.ok:>9}{sum(result.errors.values()):>8}"
        f"{result.p50_ms:>9.1f}{result.p90_ms:>9.1f}{result.p99_ms:>9.1f}{result.max_ms:>9.1f}"
        f"{result.notes.get(CPU_NOTE, ''):>12}"
    )


def _verdict(ok: bool) -> str:
    return "met" if ok else "not met"


def _ratio(a: RunResult, b: RunResult) -> float:
    return a.throughput / b.throughput if b.throughput > 0 else 0.0


def render(report: Report) -> str:
    peer, gw, untraced, two = report.peer, report.gateway, report.untraced, report.two_processes
    http, bus, fixed, batch = (
        report.http_ceiling,
        report.bus_ceiling,
        report.fixed_rate,
        report.batch,
    )
    header = (
        f"  {'run':<24}{'req/s':>10}{'ok':>9}{'errors':>8}"
        f"{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}{'CPU us/req':>12}"
    )
    floor = report.floor
    closed = (peer, floor, gw, untraced, two, http, bus)
    lines = [
        "cauce gateway benchmark",
        f"machine: {machine()}",
        "",
        f"max throughput, closed loop: {report.concurrency} in flight for "
        f"{report.duration_s:g} s each (signed WhatsApp text webhooks, one event each)",
        header,
        _row("peer (hand-written)", peer, f"{peer.throughput:.0f}"),
        _row("peer on bare ASGI", floor, f"{floor.throughput:.0f}"),
        _row("gateway, traced", gw, f"{gw.throughput:.0f}"),
        _row("gateway, untraced", untraced, f"{untraced.throughput:.0f}"),
        _row("gateway x2, traced", two, f"{two.throughput:.0f}"),
        _row("HTTP ceiling (no work)", http, f"{http.throughput:.0f}"),
        _row("bus ceiling (PubAck)", bus, f"{bus.throughput:.0f}"),
    ]
    for result in closed:
        if result.errors:
            lines.append(f"  {result.name} errors: {_errors(result)}")
        if result.exhausted:
            lines.append(f"  {result.name}: used every pre-built request before the deadline")
    traced_ratio, untraced_ratio = _ratio(gw, peer), _ratio(untraced, peer)
    lines += [
        f"  gateway traced / peer   = {traced_ratio:.2f}  (was {TRACED_PEER_BEFORE:.2f};"
        f" target >= {TRACED_PEER_TARGET:g}: {_verdict(traced_ratio >= TRACED_PEER_TARGET)})",
        f"  gateway untraced / peer = {untraced_ratio:.2f}  (was {UNTRACED_PEER_BEFORE:.2f};"
        f" target >= {UNTRACED_PEER_TARGET:g}: {_verdict(untraced_ratio >= UNTRACED_PEER_TARGET)})",
        f"  two processes / one     = {_ratio(two, gw):.2f}"
        "  (load generator and nats-server share the same cores)",
        "  CPU us/req: the server processes' CPU per webhook answered 200 (warm-up included)",
        "",
        f"fixed rate (open loop, latency from the scheduled send time): {report.rate:g} req/s "
        f"for {report.rate_duration_s:g} s",
        header,
        _row("gateway, traced", fixed, f"{fixed.throughput:.0f}"),
        f"  errors: {_errors(fixed)}",
    ]
    at_target = (report.rate, report.rate_duration_s) == (TARGET_RATE, TARGET_RATE_DURATION_S)
    p99_ok = fixed.p99_ms <= P99_TARGET_MS and not fixed.errors
    if at_target:
        verdict = _verdict(p99_ok)
    else:
        verdict = f"not judged (target is {TARGET_RATE:g} req/s for {TARGET_RATE_DURATION_S:g} s)"
    batch_ok = batch.ok > 0 and not batch.errors and batch.max_ms <= BATCH_TARGET_MS
    lines += [
        f"  target p99 <= {P99_TARGET_MS:g} ms with no errors: {verdict}",
        "",
        f"bursts: {batch.sent} webhooks of {report.batch_statuses} statuses, one at a time",
        header,
        _row("gateway, traced", batch, f"{batch.throughput:.1f}"),
        f"  errors: {_errors(batch)}",
        f"  target every one answered <= {BATCH_TARGET_MS:g} ms: {_verdict(batch_ok)}",
        "",
        "events on the bus after the runs",
        *(_count_line(*count) for count in report.stream_counts),
    ]
    return "\n".join(lines)


def _count_line(stream: str, actual: int, expected: int, what: str) -> str:
    verdict = "exact" if actual == expected else "MISMATCH: the run is not a result"
    return f"  {stream}: {actual} messages for {expected} {what} ({verdict})"
