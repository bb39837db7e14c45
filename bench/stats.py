"""What one load run measured, reduced to the figures the report prints."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (0.0 when there are none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass(frozen=True)
class RunResult:
    """One measured run. ``ok`` counts successes (HTTP 200 / PubAck); ``errors`` maps an
    HTTP status or exception name to its count; latencies are in milliseconds."""

    name: str
    ok: int
    errors: dict[str, int]
    elapsed_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    #: Successes outside the measurement (warm-up); they still count as published events.
    warmup_ok: int = 0
    #: True when a closed-loop run ended because it used every pre-built request.
    exhausted: bool = False
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def sent(self) -> int:
        return self.ok + sum(self.errors.values())

    @property
    def throughput(self) -> float:
        return self.ok / self.elapsed_s if self.elapsed_s > 0 else 0.0


def summarize(
    name: str,
    latencies_s: list[float],
    outcomes: Counter[str],
    elapsed_s: float,
    *,
    warmup_ok: int = 0,
    exhausted: bool = False,
) -> RunResult:
    """Reduce raw latencies (seconds, successes only) and outcomes to a :class:`RunResult`."""
    ms = sorted(v * 1000 for v in latencies_s)
    errors = {key: count for key, count in outcomes.items() if key != "ok"}
    return RunResult(
        name=name,
        ok=outcomes["ok"],
        errors=dict(sorted(errors.items())),
        elapsed_s=elapsed_s,
        p50_ms=percentile(ms, 0.50),
        p90_ms=percentile(ms, 0.90),
        p99_ms=percentile(ms, 0.99),
        max_ms=ms[-1] if ms else 0.0,
        warmup_ok=warmup_ok,
        exhausted=exhausted,
    )
