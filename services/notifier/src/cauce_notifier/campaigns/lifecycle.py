"""What a campaign may do next, from the state it is in.

::

    DRAFT ──schedule──▶ SCHEDULED ──(its time)──▶ RUNNING ◀──resume── PAUSED
      │                    │                        │ ──pause──────────▶ │
      └───────start────────┴───────start──────────▶ │                    │
                                                    ├──▶ COMPLETED       │
    cancel: from DRAFT, SCHEDULED, RUNNING, PAUSED ─┴──▶ CANCELLED ◀─────┘
    fail: from RUNNING or PAUSED (the platform gave up) ──▶ FAILED

A change that is not allowed raises :class:`TransitionRefused` with the reason, which the
API answers as 409. Editing (name, template, schedule, audience) and uploading
recipients are allowed before the campaign runs only: what was planned is what is sent.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, Literal

from cauce_runtime import CauceError


class CampaignStatus(StrEnum):
    """A campaign's state (upper case, as the seed's clients read it)."""

    DRAFT = "DRAFT"
    SCHEDULED = "SCHEDULED"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"


Action = Literal["schedule", "start", "pause", "resume", "cancel", "complete", "fail", "reopen"]

D, S, R, P = (
    CampaignStatus.DRAFT,
    CampaignStatus.SCHEDULED,
    CampaignStatus.RUNNING,
    CampaignStatus.PAUSED,
)
#: action -> {from: to}. ``reopen``: retry-failed puts a finished campaign back to work.
TRANSITIONS: Final[dict[Action, dict[CampaignStatus, CampaignStatus]]] = {
    "schedule": {D: S, S: S},
    "start": {D: R, S: R},
    "pause": {R: P},
    "resume": {P: R},
    "cancel": {
        D: CampaignStatus.CANCELLED,
        S: CampaignStatus.CANCELLED,
        R: CampaignStatus.CANCELLED,
        P: CampaignStatus.CANCELLED,
    },
    "complete": {R: CampaignStatus.COMPLETED},
    "fail": {R: CampaignStatus.FAILED, P: CampaignStatus.FAILED},
    "reopen": {CampaignStatus.COMPLETED: R, CampaignStatus.FAILED: R, R: R, P: P},
}
#: States in which the campaign may still be edited and given recipients.
EDITABLE: Final = frozenset({D, S})
#: States in which nothing more will be sent unless someone retries failures.
FINISHED: Final = frozenset(
    {CampaignStatus.COMPLETED, CampaignStatus.CANCELLED, CampaignStatus.FAILED}
)


class TransitionRefused(CauceError):
    """The campaign cannot do that in its current state; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def next_status(current: CampaignStatus, action: Action) -> CampaignStatus:
    """Where ``action`` takes a campaign that is ``current``; :class:`TransitionRefused`
    when it is not allowed."""
    allowed = TRANSITIONS[action]
    if current not in allowed:
        froms = ", ".join(sorted(allowed))
        raise TransitionRefused(f"cannot {action} a {current.value} campaign (only from {froms})")
    return allowed[current]


def check_editable(current: CampaignStatus, what: str = "edit") -> None:
    """:class:`TransitionRefused` unless the campaign has not started yet."""
    if current not in EDITABLE:
        raise TransitionRefused(
            f"cannot {what} a {current.value} campaign: only DRAFT or SCHEDULED campaigns "
            "change before they run"
        )


def check_deletable(current: CampaignStatus) -> None:
    """:class:`TransitionRefused` while the campaign is sending or may resume sending."""
    if current in (R, P):
        raise TransitionRefused(
            f"cannot delete a {current.value} campaign: cancel it first, so what was "
            "sent stays on record"
        )
