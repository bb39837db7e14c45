"""An in-memory :class:`~cauce_conversation.turns.TurnStore` and a scripted flow.

:class:`FakeConversationStore` keeps :class:`~cauce_conversation.store.ConversationStore`'s
promises: every read returns a fresh copy of the stored document (datetimes cut to
milliseconds, as BSON keeps them), ``save`` is a compare-and-set on ``version``,
racing ``create`` calls converge on one conversation, a message id or a transaction is
recorded once. :meth:`FakeConversationStore.write_behind` plays another writer (a
replica, the inbox API) that saves between a turn's read and its write.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

from cauce_contracts.outbound import TextContent
from cauce_conversation.flows.vocabulary import (
    ChangeLeadState,
    Command,
    DebtFound,
    FlowInput,
    FlowState,
    HandOver,
    LookUpDebt,
    PaymentStatusChanged,
    Reply,
    TextReceived,
    Transition,
)
from cauce_conversation.model import Conversation, MessageRecord, Report
from cauce_conversation.store.documents import (
    Document,
    from_document,
    now_ms,
    stored_form,
    to_document,
)

Change = Callable[[Conversation], Conversation]


def _unchanged(conversation: Conversation) -> Conversation:
    return conversation


class FakeConversationStore:
    def __init__(self) -> None:
        self.conversations: dict[str, Document] = {}
        self.messages: dict[str, MessageRecord] = {}
        self.reports: dict[str, Report] = {}
        self.turns_taken: set[str] = set()
        self.saves = 0
        #: What another writer saves before each of the next saves (None: nothing).
        self._writes_behind: list[Change | None] = []

    def write_behind(self, times: int = 1, change: Change = _unchanged, *, after: int = 0) -> None:
        """Before each of ``times`` saves, once ``after`` more went through, another
        writer saves ``change`` of the stored conversation first (so a save of an
        earlier read loses)."""
        self._writes_behind = [None] * after + [change] * times

    def stored(self, conversation_id: str) -> Conversation:
        return from_document(Conversation, copy.deepcopy(self.conversations[conversation_id]))

    def messages_of(self, conversation_id: str) -> list[MessageRecord]:
        return [m for m in self.messages.values() if m.conversation_id == conversation_id]

    async def get(self, conversation_id: str) -> Conversation | None:
        if conversation_id not in self.conversations:
            return None
        return self.stored(conversation_id)

    async def create(self, conversation: Conversation) -> Conversation:
        if conversation.id in self.conversations:
            return self.stored(conversation.id)
        stored = stored_form(conversation)
        self.conversations[conversation.id] = copy.deepcopy(to_document(stored))
        return stored

    async def save(self, conversation: Conversation) -> Conversation | None:
        self.saves += 1
        change = self._writes_behind.pop(0) if self._writes_behind else None
        if change is not None and conversation.id in self.conversations:
            other = change(self.stored(conversation.id))
            self._write(other, expected_version=other.version)
        return self._write(conversation, expected_version=conversation.version)

    def _write(self, conversation: Conversation, *, expected_version: int) -> Conversation | None:
        current = self.conversations.get(conversation.id)
        if current is None or current["version"] != expected_version:
            return None
        written = stored_form(
            conversation.model_copy(
                update={"version": expected_version + 1, "updated_at": now_ms()}
            )
        )
        self.conversations[conversation.id] = copy.deepcopy(to_document(written))
        return written

    async def add_message(self, message: MessageRecord) -> bool:
        if message.id in self.messages:
            return False
        self.messages[message.id] = stored_form(message)
        return True

    async def mark_turn_taken(self, message_id: str) -> None:
        if message_id in self.messages:
            self.turns_taken.add(message_id)

    async def turn_taken(self, message_id: str) -> bool:
        return message_id in self.turns_taken

    async def add_report(self, report: Report) -> bool:
        clash = report.id in self.reports or (
            report.kind == "transaction"
            and await self.find_transaction_report(report.tenant_id, report.transaction_id or "")
            is not None
        )
        if clash:
            return False
        self.reports[report.id] = stored_form(report)
        return True

    async def find_transaction_report(self, tenant_id: str, transaction_id: str) -> Report | None:
        return next(
            (
                r
                for r in self.reports.values()
                if r.kind == "transaction"
                and (r.tenant_id, r.transaction_id) == (tenant_id, transaction_id)
            ),
            None,
        )


@dataclass
class EchoFlow:
    """A flow small enough to read in the tests: text is echoed (and the lead becomes
    ``conversando``), ``placa X`` looks up X's debt, ``asesor`` hands over; payments'
    answers are told to the customer. Remembers every input it heard, with the state."""

    name: str = "echo"
    heard: list[tuple[FlowState, FlowInput]] = field(default_factory=list)

    @property
    def initial(self) -> FlowState:
        return FlowState("start", {"turns": 0})

    def restart(self, state: FlowState) -> FlowState:
        return FlowState("start", {"turns": 0, "restarted": True})

    def step(self, state: FlowState, event: FlowInput) -> Transition:
        self.heard.append((state, event))
        slots = {**state.slots, "turns": int(state.slots.get("turns", 0)) + 1}
        commands: tuple[Command, ...]
        if isinstance(event, TextReceived) and event.text == "asesor":
            commands = (HandOver("asked for an advisor"),)
        elif isinstance(event, TextReceived) and event.text.startswith("placa "):
            commands = (LookUpDebt(event.text.removeprefix("placa ")),)
        elif isinstance(event, TextReceived):
            commands = (_say(f"eco: {event.text}"), ChangeLeadState("conversando"))
        elif isinstance(event, DebtFound):
            commands = (_say(f"{event.placa} debe {len(event.debts)} vigencia(s)"),)
        elif isinstance(event, PaymentStatusChanged):
            commands = (_say(f"pago {event.status}"),)
        else:
            commands = (_say(f"oído: {type(event).__name__}"),)
        return Transition(FlowState("talking", slots), commands)


def _say(text: str) -> Reply:
    return Reply(TextContent(body=text))
