"""The campaign bench's figures from receive timestamps (pure functions, no servers)."""

from __future__ import annotations

import pytest

from bench.send_timing import counter_total, duplicates, max_in_window, steady_span


def test_the_busiest_window_leaves_out_what_is_a_whole_second_old() -> None:
    assert max_in_window([]) == 0
    assert max_in_window([0.0, 0.5, 0.999]) == 3
    assert max_in_window([0.0, 1.0]) == 1  # the sandbox's sliding window: (t - 1, t]
    assert max_in_window([3.0, 0.2, 0.1, 1.15, 1.05]) == 3  # unsorted input


def test_the_steady_state_leaves_out_the_ramp_up_and_the_tail() -> None:
    burst = [1.0 + i / 100 for i in range(98)]  # 100/s for 0.97 s
    times = [9.0, *burst, 0.0]  # a straggler at each end, unsorted
    span = steady_span(times, trim=0.01)
    assert (span.start, span.end) == (1.0, pytest.approx(1.97))
    assert span.rate(times) == pytest.approx(98 / 0.97)
    assert steady_span([2.0]).seconds == 0.0
    assert steady_span([]).rate([1.0]) == 0.0


def test_duplicates_count_recipients_and_extra_calls() -> None:
    assert duplicates(["a", "b", "c"]) == (0, 0)
    assert duplicates(["a", "b", "a", "a", "c", "c"]) == (2, 3)


def test_a_counter_is_summed_over_the_series_with_the_labels() -> None:
    page = "\n".join(
        [
            "# TYPE cauce_consumer_redeliveries_total counter",
            'cauce_consumer_redeliveries_total{consumer="notifier-requests",stream="OUTBOUND"} 3.0',
            'cauce_consumer_redeliveries_total{consumer="notifier-campaign-sends",x="1"} 40.0',
            'cauce_consumer_redeliveries_total{consumer="notifier-campaign-sends",x="2"} 2.0',
            'cauce_consumer_redeliveries_total_created{consumer="notifier-campaign-sends"} 9.0',
        ]
    )
    name = "cauce_consumer_redeliveries_total"
    assert counter_total(page, name, consumer="notifier-campaign-sends") == 42.0
    assert counter_total(page, name, consumer="notifier-windows") == 0.0
