"""The printed result: one table of runs, the ratio, the targets and the event count."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass

from bench.stats import RunResult

RATIO_TARGET = 0.5
P99_TARGET_MS = 25.0
TARGET_RATE = 500.0
TARGET_RATE_DURATION_S = 30.0


@dataclass(frozen=True)
class Report:
    concurrency: int
    duration_s: float
    rate: float
    rate_duration_s: float
    gateway: RunResult
    http_ceiling: RunResult
    bus_ceiling: RunResult
    fixed_rate: RunResult
    inbound_expected: int
    inbound_actual: int
    bus_expected: int
    bus_actual: int


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
    )


def _verdict(ok: bool) -> str:
    return "met" if ok else "not met"


def render(report: Report) -> str:
    gw, http, bus, fixed = (
        report.gateway,
        report.http_ceiling,
        report.bus_ceiling,
        report.fixed_rate,
    )
    ceiling = min(http.throughput, bus.throughput)
    ratio = gw.throughput / ceiling if ceiling > 0 else 0.0
    header = (
        f"  {'run':<24}{'req/s':>10}{'ok':>9}{'errors':>8}"
        f"{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}"
    )
    lines = [
        "cauce gateway benchmark",
        f"machine: {machine()}",
        "",
        f"max throughput, closed loop: {report.concurrency} in flight for "
        f"{report.duration_s:g} s each (signed WhatsApp text webhooks, one event each)",
        header,
        _row("gateway", gw, f"{gw.throughput:.0f}"),
        _row("HTTP ceiling (no work)", http, f"{http.throughput:.0f}"),
        _row("bus ceiling (PubAck)", bus, f"{bus.throughput:.0f}"),
    ]
    for result in (gw, http, bus):
        if result.errors:
            lines.append(f"  {result.name} errors: {_errors(result)}")
        if result.exhausted:
            lines.append(f"  {result.name}: used every pre-built request before the deadline")
    lines += [
        f"  ratio gateway / min(ceilings) = {gw.throughput:.0f} / {ceiling:.0f} = {ratio:.2f}"
        f"   target >= {RATIO_TARGET}: {_verdict(ratio >= RATIO_TARGET)}",
        "",
        f"fixed rate (open loop, latency from the scheduled send time): {report.rate:g} req/s "
        f"for {report.rate_duration_s:g} s",
        header,
        _row("gateway", fixed, f"{fixed.throughput:.0f}"),
        f"  errors: {_errors(fixed)}",
    ]
    at_target = (report.rate, report.rate_duration_s) == (TARGET_RATE, TARGET_RATE_DURATION_S)
    p99_ok = fixed.p99_ms <= P99_TARGET_MS and not fixed.errors
    if at_target:
        verdict = _verdict(p99_ok)
    else:
        verdict = f"not judged (target is {TARGET_RATE:g} req/s for {TARGET_RATE_DURATION_S:g} s)"
    lines += [
        f"  target p99 <= {P99_TARGET_MS:g} ms with no errors: {verdict}",
        "",
        "events on the bus after the runs",
        _count_line("INBOUND", report.inbound_actual, report.inbound_expected, "gateway 200s"),
        _count_line("BENCH_BUS", report.bus_actual, report.bus_expected, "PubAcks"),
    ]
    return "\n".join(lines)


def _count_line(stream: str, actual: int, expected: int, what: str) -> str:
    verdict = "exact" if actual == expected else "MISMATCH: the run is not a result"
    return f"  {stream}: {actual} messages for {expected} {what} ({verdict})"
