"""Events a turn decided to publish, kept in the conversation until JetStream has them.

A turn writes its new state *and* the events it causes in one compare-and-set of the
conversation document; they are published after, and cleared once acknowledged. A
crash in between leaves them in the document, and the next turn of that conversation
(or the redelivery of the same event) publishes them first. Their event ids are stable
(derived from the causing event), so publishing one twice is dropped by JetStream's
duplicate window and, beyond it, by every consumer's idempotency on ``event_id``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cauce_contracts.envelope import Event
from cauce_contracts.registry import model_for, subject_of


@dataclass(frozen=True)
class Pending:
    """One event to publish on its contract subject."""

    event: Event

    @property
    def subject(self) -> str:
        return subject_of(self.event)

    @property
    def event_id(self) -> str:
        return str(self.event.event_id)

    def to_document(self) -> dict[str, Any]:
        return {"event_type": self.event.event_type, "event": self.event.model_dump(mode="json")}

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> Pending:
        model = model_for(document["event_type"])
        return cls(model.model_validate(document["event"]))
