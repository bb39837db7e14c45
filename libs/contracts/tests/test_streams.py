from __future__ import annotations

import pytest

from cauce_contracts import subjects
from cauce_contracts.streams import STREAMS, SUBSCRIPTIONS, Subscription, stream_named


def test_stream_names_unique_and_subjects_disjoint() -> None:
    assert len({s.name for s in STREAMS}) == len(STREAMS)
    roots = [subject for stream in STREAMS for subject in stream.subjects]
    assert len(roots) == len(set(roots))


def test_every_event_lands_in_exactly_one_stream() -> None:
    for event_type in subjects.SUBJECT_PATTERNS:
        sample = subjects.all_of(event_type).replace(">", "x")
        holders = [
            s.name for s in STREAMS if any(subjects.subject_matches(f, sample) for f in s.subjects)
        ]
        assert len(holders) == 1, (event_type, holders)


@pytest.mark.parametrize("spec", SUBSCRIPTIONS, ids=lambda spec: spec.durable_name)
def test_subscription_reads_from_its_stream(spec: Subscription) -> None:
    assert subjects.is_token(spec.durable_name)
    stream = stream_named(spec.stream)
    assert spec.filter_subjects
    for filter_subject in spec.filter_subjects:
        sample = filter_subject.replace(">", "x").replace("*", "x")
        assert any(subjects.subject_matches(root, sample) for root in stream.subjects)


def test_durable_names_unique() -> None:
    names = [spec.durable_name for spec in SUBSCRIPTIONS]
    assert len(names) == len(set(names))
