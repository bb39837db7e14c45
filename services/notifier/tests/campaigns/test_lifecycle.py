"""A campaign's states and the changes allowed between them."""

from __future__ import annotations

import itertools

import pytest

from cauce_notifier.campaigns.lifecycle import (
    TRANSITIONS,
    CampaignStatus,
    TransitionRefused,
    check_deletable,
    check_editable,
    next_status,
)

S = CampaignStatus


@pytest.mark.parametrize(
    ("current", "action", "expected"),
    [
        (S.DRAFT, "schedule", S.SCHEDULED),
        (S.DRAFT, "start", S.RUNNING),
        (S.SCHEDULED, "start", S.RUNNING),
        (S.RUNNING, "pause", S.PAUSED),
        (S.PAUSED, "resume", S.RUNNING),
        (S.PAUSED, "cancel", S.CANCELLED),
        (S.RUNNING, "complete", S.COMPLETED),
        (S.PAUSED, "fail", S.FAILED),
        (S.COMPLETED, "reopen", S.RUNNING),
    ],
)
def test_allowed_changes(current: S, action: str, expected: S) -> None:
    assert next_status(current, action) == expected  # type: ignore[arg-type]


def test_every_refusal_names_the_state_and_what_is_allowed() -> None:
    refused = 0
    for current, action in itertools.product(S, TRANSITIONS):
        if current in TRANSITIONS[action]:
            continue
        with pytest.raises(TransitionRefused) as raised:
            next_status(current, action)
        assert current.value in raised.value.reason and action in raised.value.reason
        refused += 1
    assert refused > 20  # most combinations are refused
    # finished campaigns stay finished, except a retry of failures
    for done in (S.COMPLETED, S.CANCELLED, S.FAILED):
        for action in ("start", "pause", "resume", "cancel", "schedule"):
            with pytest.raises(TransitionRefused):
                next_status(done, action)  # type: ignore[arg-type]
    with pytest.raises(TransitionRefused):
        next_status(S.CANCELLED, "reopen")


def test_only_unstarted_campaigns_are_edited_and_running_ones_are_not_deleted() -> None:
    check_editable(S.DRAFT)
    check_editable(S.SCHEDULED)
    for current in (S.RUNNING, S.PAUSED, S.COMPLETED, S.CANCELLED, S.FAILED):
        with pytest.raises(TransitionRefused, match="only DRAFT or SCHEDULED"):
            check_editable(current, "upload recipients to")
    for current in (S.RUNNING, S.PAUSED):
        with pytest.raises(TransitionRefused, match="cancel it first"):
            check_deletable(current)
    for current in (S.DRAFT, S.SCHEDULED, S.COMPLETED, S.CANCELLED, S.FAILED):
        check_deletable(current)
