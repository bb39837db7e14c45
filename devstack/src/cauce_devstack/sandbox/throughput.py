"""A sliding one-second window that caps and measures requests per key (a Graph business
number; all of Odoo). Admission and its record happen with no ``await`` in between, so
concurrent requests cannot both slip under the cap.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel

WINDOW_S = 1.0


@dataclass
class _Number:
    limit: float
    recent: deque[float] = field(default_factory=deque)
    accepted: int = 0
    rate_limited: int = 0
    max_in_window: int = 0
    """Exact: the busiest window of a series always ends on an acceptance, so it is the
    largest count seen right after one."""
    first_accepted_at: float | None = None
    last_accepted_at: float | None = None


class NumberMetrics(BaseModel):
    """What the fake measured for one business number."""

    limit_per_second: float | None
    """``None``: enforcement is off (the sandbox still measures)."""
    accepted: int
    rate_limited: int
    max_in_any_1s_window: int
    first_accepted_at: float | None = None
    """Wall-clock epoch seconds of the first accepted send."""
    last_accepted_at: float | None = None


class ThroughputLimiter:
    """Sliding-window limiter and meter, one window per ``phone_number_id``."""

    def __init__(
        self,
        default_limit: float,
        overrides: Mapping[str, float] | None = None,
        *,
        enforced: bool = True,
    ) -> None:
        self.default_limit = default_limit
        self.enforced = enforced
        self._overrides = dict(overrides or {})
        self._numbers: dict[str, _Number] = {}

    def limit_for(self, phone_number_id: str) -> float:
        return self._overrides.get(phone_number_id, self.default_limit)

    def set_limit(self, phone_number_id: str, per_second: float) -> None:
        self._overrides[phone_number_id] = per_second
        if phone_number_id in self._numbers:
            self._numbers[phone_number_id].limit = per_second

    def _number(self, phone_number_id: str) -> _Number:
        number = self._numbers.get(phone_number_id)
        if number is None:
            number = self._numbers[phone_number_id] = _Number(self.limit_for(phone_number_id))
        return number

    def admit(self, phone_number_id: str) -> float | None:
        """Record an accepted send and return ``None``, or return seconds to wait."""
        now = time.monotonic()
        number = self._number(phone_number_id)
        recent = number.recent
        while recent and recent[0] <= now - WINDOW_S:
            recent.popleft()
        if self.enforced and len(recent) >= number.limit:
            number.rate_limited += 1
            return max(recent[0] + WINDOW_S - now, 0.0)
        recent.append(now)
        number.accepted += 1
        number.max_in_window = max(number.max_in_window, len(recent))
        wall = time.time()
        if number.first_accepted_at is None:
            number.first_accepted_at = wall
        number.last_accepted_at = wall
        return None

    def metrics(self) -> dict[str, NumberMetrics]:
        return {
            pnid: NumberMetrics(
                limit_per_second=n.limit if self.enforced else None,
                accepted=n.accepted,
                rate_limited=n.rate_limited,
                max_in_any_1s_window=n.max_in_window,
                first_accepted_at=n.first_accepted_at,
                last_accepted_at=n.last_accepted_at,
            )
            for pnid, n in self._numbers.items()
        }

    def reset(self) -> int:
        count = len(self._numbers)
        self._numbers.clear()
        return count


def retry_after_header(wait_s: float) -> int:
    """Whole seconds for ``Retry-After`` (HTTP allows no fractions), at least 1."""
    return max(1, math.ceil(wait_s))
