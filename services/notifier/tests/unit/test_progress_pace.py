"""A campaign's progress snapshot reads the whole campaign: a big one is snapshotted less
often than every second, so snapshots never take more than their share of the time."""

from __future__ import annotations

import pytest

from cauce_notifier.campaigns.dispatch import (
    PROGRESS_EVERY_S,
    PROGRESS_TIME_SHARE,
    progress_every_s,
)


@pytest.mark.parametrize("snapshot_s", [0.0, 0.01, 0.05, 0.1])
def test_a_quick_snapshot_goes_every_second(snapshot_s: float) -> None:
    assert progress_every_s(snapshot_s) == PROGRESS_EVERY_S == 1.0


@pytest.mark.parametrize("snapshot_s", [0.2, 0.6, 2.0])
def test_a_slow_snapshot_takes_its_share_of_the_time_at_most(snapshot_s: float) -> None:
    every = progress_every_s(snapshot_s)
    assert every > PROGRESS_EVERY_S
    assert snapshot_s / every == pytest.approx(PROGRESS_TIME_SHARE)
