"""Figures from when the Graph fake received each send (its outbox's ``received_at``):
the busiest 1 s window, the steady-state rate, duplicates; and what a process used
(CPU time, a counter of its ``/metrics``).

Pure functions on plain numbers, so what the campaign bench prints is easy to check.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import psutil

#: The share of a series left out at each end for its steady state (ramp-up, tail).
STEADY_TRIM = 0.05


def max_in_window(times: Iterable[float], window_s: float = 1.0) -> int:
    """Most of ``times`` (seconds) in any sliding window of ``window_s``: the window
    ending at each time holds those after ``time - window_s`` (the sandbox's rule)."""
    ordered = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(ordered):
        while ordered[start] <= at - window_s:
            start += 1
        best = max(best, end - start + 1)
    return best


@dataclass(frozen=True)
class Span:
    """An interval of wall-clock seconds."""

    start: float
    end: float

    @property
    def seconds(self) -> float:
        return max(0.0, self.end - self.start)

    def rate(self, times: Iterable[float]) -> float:
        """Events of ``times`` inside the span, per second of it (0.0 if it is empty)."""
        if self.seconds <= 0:
            return 0.0
        return sum(1 for at in times if self.start <= at <= self.end) / self.seconds


def steady_span(times: Sequence[float], trim: float = STEADY_TRIM) -> Span:
    """From the ``trim`` quantile of ``times`` to the ``1 - trim`` one: the series
    without its ramp-up and its tail (the whole series when it is too short to trim)."""
    ordered = sorted(times)
    if not ordered:
        return Span(0.0, 0.0)
    cut = int(len(ordered) * trim)
    if len(ordered) - 2 * cut < 2:
        cut = 0
    return Span(ordered[cut], ordered[len(ordered) - 1 - cut])


def duplicates(keys: Iterable[Hashable]) -> tuple[int, int]:
    """``(keys seen more than once, calls beyond the first of each)``."""
    counts = Counter(keys)
    repeated = [n for n in counts.values() if n > 1]
    return len(repeated), sum(n - 1 for n in repeated)


def counter_total(exposition: str, name: str, **labels: str) -> float:
    """The sum of the Prometheus counter ``name`` over its series carrying ``labels``
    (0.0 before the first increment: OpenTelemetry exports a counter once it is used)."""
    wanted = [f'{key}="{value}"' for key, value in labels.items()]
    total = 0.0
    for line in exposition.splitlines():
        if line.startswith(name + "{") and all(label in line for label in wanted):
            total += float(line.rsplit(" ", 1)[1])
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process ``pid`` has used so far."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user) + float(times.system)
