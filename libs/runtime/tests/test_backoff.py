"""The one retry-timing policy: steps, jitter that only adds, Retry-After as a minimum."""

from __future__ import annotations

import pytest

from cauce_contracts.streams import DLQ
from cauce_devstack.testing import delivery_for
from cauce_runtime import Backoff, ConsumerSpec, TransientError
from cauce_runtime.bus._consumers import _retry_delay


def test_exponential_steps_double_up_to_the_cap_which_repeats() -> None:
    backoff = Backoff.exponential(1.0, 10.0)
    assert backoff.steps == (1.0, 2.0, 4.0, 8.0, 10.0)
    assert [backoff.step(n) for n in (1, 2, 5, 6, 50)] == [1.0, 2.0, 10.0, 10.0, 10.0]
    assert backoff.step(0) == 1.0  # "no retry yet" reads as the first


def test_jitter_only_adds_up_to_its_share() -> None:
    backoff = Backoff.of(10, jitter=0.2)
    assert backoff.delay(1, uniform=lambda: 0.0) == 10.0
    assert backoff.delay(1, uniform=lambda: 1.0) == pytest.approx(12.0)
    delays = [backoff.delay(1) for _ in range(2000)]
    assert min(delays) >= 10.0
    assert max(delays) <= 12.0
    assert max(delays) - min(delays) > 1.0  # it does spread


def test_retry_after_replaces_the_step_and_is_never_undercut() -> None:
    backoff = Backoff.of(1, 5, 30, jitter=0.2)
    assert backoff.delay(3, retry_after=2.0, uniform=lambda: 0.0) == 2.0
    assert all(backoff.delay(3, retry_after=2.0) >= 2.0 for _ in range(2000))
    assert backoff.delay(1, retry_after=0.0) == 0.0  # "retry now" stays now
    assert backoff.delay(1, retry_after=-3.0) == 0.0


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Backoff(()), "at least one step"),
        (lambda: Backoff((1.0, -1.0)), "none negative"),
        (lambda: Backoff((1.0,), jitter=-0.1), "jitter"),
        (lambda: Backoff.exponential(5.0, 1.0), "base_s <= max_s"),
        (lambda: Backoff.exponential(1.0, 5.0, factor=1.0), "factor"),
    ],
)
def test_nonsense_is_refused(make, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        make()


def test_an_exact_schedule_is_kept_and_anything_else_goes_through_the_backoff() -> None:
    spec = ConsumerSpec("d", DLQ.name, ("dlq.>",), "d", backoff=Backoff.of(10, jitter=0.5))
    delivery = delivery_for(spec, num_delivered=1)
    scheduled = TransientError("slot later", retry_after=3.0, exact=True)
    assert all(_retry_delay(spec, delivery, scheduled) == 3.0 for _ in range(200))
    minimum = TransientError("provider busy", retry_after=3.0)
    delays = [_retry_delay(spec, delivery, minimum) for _ in range(200)]
    assert min(delays) >= 3.0 and max(delays) > 3.0
    assert min(_retry_delay(spec, delivery, RuntimeError("bug")) for _ in range(50)) >= 10.0
    # exact without a time says nothing: the backoff applies
    assert not TransientError("x", exact=True).exact
