"""When to try again: the one retry-timing policy of every service.

A :class:`Backoff` is a list of steps (seconds before retry 1, 2, ...; the last one
repeats) and a jitter. Jitter only ever *adds* to a step, up to ``jitter`` times it,
so retries that failed together spread out without any coming early. A remote's
``Retry-After`` takes the step's place and is jittered the same way: it is a minimum,
and a retry before it would be refused again.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Seconds to wait before each retry; see the module docstring."""

    steps: tuple[float, ...]
    #: The largest share of a step added at random (0.2: up to 20 % more).
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if not self.steps or any(step < 0 for step in self.steps):
            raise ValueError("a backoff needs at least one step, none negative")
        if self.jitter < 0:
            raise ValueError("jitter cannot be negative")

    @classmethod
    def exponential(
        cls, base_s: float, max_s: float, *, factor: float = 2.0, jitter: float = 0.2
    ) -> Backoff:
        """``base_s``, ``base_s * factor``, ... up to ``max_s``, which then repeats."""
        if base_s <= 0 or max_s < base_s or factor <= 1:
            raise ValueError("need 0 < base_s <= max_s and factor > 1")
        steps: list[float] = []
        step = base_s
        while step < max_s:
            steps.append(step)
            step *= factor
        steps.append(max_s)
        return cls(tuple(steps), jitter)

    @classmethod
    def of(cls, *seconds: float, jitter: float = 0.2) -> Backoff:
        """Explicit steps: ``Backoff.of(1, 5, 30)``."""
        return cls(tuple(float(s) for s in seconds), jitter)

    def step(self, attempt: int) -> float:
        """The un-jittered wait before retry ``attempt`` (1 is the first retry)."""
        return self.steps[min(max(attempt, 1), len(self.steps)) - 1]

    def delay(
        self,
        attempt: int,
        retry_after: float | None = None,
        *,
        uniform: Callable[[], float] = random.random,
    ) -> float:
        """Seconds before retry ``attempt``: ``retry_after`` when the remote said (a
        minimum), else the step, plus up to ``jitter`` of it. Never less than either."""
        base = max(0.0, retry_after) if retry_after is not None else self.step(attempt)
        return base * (1.0 + self.jitter * uniform())


__all__ = ["Backoff"]
