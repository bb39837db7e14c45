"""What a bot flow hears and what it asks for: the inputs and commands of every flow.

A flow is a pure state machine, ``step(state, input) -> Transition(state, commands)``:
no I/O, no clock, no randomness, so it is table-tested without servers. The
conversation service turns events into inputs (:mod:`cauce_conversation.turns`) and
carries out the commands (replies become ``outbound.message.requested``, lookups and
link requests become ``payments.*`` requests, lead states ``crm.lead.state_changed``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from cauce_contracts.outbound import OutboundContent
from cauce_contracts.payments import PaymentItem, TransactionStatus, VehicleDebt

# --------------------------------------------------------------------------- state


@dataclass(frozen=True)
class FlowState:
    """Where a conversation is in its flow: a step name and the flow's slots.

    ``slots`` must stay JSON-serialisable (str, int, bool, None, lists, dicts):
    the service stores it in the conversation document as is.
    """

    step: str
    slots: Mapping[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class TextReceived:
    """The customer wrote text."""

    text: str


@dataclass(frozen=True)
class ChoiceReceived:
    """The customer tapped a reply button or list row (``id`` is the one we sent)."""

    id: str
    title: str


#: What kind of non-text message arrived.
MediaKind = Literal[
    "image", "audio", "video", "document", "sticker", "location", "contacts", "order", "other"
]


@dataclass(frozen=True)
class MediaReceived:
    """The customer sent something that is not text (a photo, a voice note, a place...)."""

    kind: MediaKind


@dataclass(frozen=True)
class DebtFound:
    """Payments answered our lookup: the vehicle owes ``debts`` (one per vigencia)."""

    placa: str
    debts: tuple[VehicleDebt, ...]


@dataclass(frozen=True)
class DebtNotFound:
    """Payments answered our lookup: nothing owed (or the plate is unknown to SCI)."""

    placa: str


@dataclass(frozen=True)
class DebtLookupUnavailable:
    """The lookup failed. With ``will_retry`` payments keeps trying and will answer
    later (tell the customer to wait); without it, this lookup is over."""

    placa: str
    reason: str
    will_retry: bool


@dataclass(frozen=True)
class PaymentLinkReady:
    """SCI created the transaction: ``url`` is where the customer pays."""

    url: str
    amount: int
    transaction_id: str
    payment_reference: str


@dataclass(frozen=True)
class PaymentLinkUnavailable:
    """No link (yet). ``will_retry`` as in :class:`DebtLookupUnavailable`."""

    reason: str
    will_retry: bool


@dataclass(frozen=True)
class PaymentStatusChanged:
    """SCI reported the transaction's status (approved, rejected, failed, expired...)."""

    transaction_id: str
    status: TransactionStatus
    amount: int | None = None


FlowInput = (
    TextReceived
    | ChoiceReceived
    | MediaReceived
    | DebtFound
    | DebtNotFound
    | DebtLookupUnavailable
    | PaymentLinkReady
    | PaymentLinkUnavailable
    | PaymentStatusChanged
)

# --------------------------------------------------------------------------- commands


@dataclass(frozen=True)
class Reply:
    """Send ``content`` to the customer (text, reply buttons, CTA URL...)."""

    content: OutboundContent


@dataclass(frozen=True)
class LookUpDebt:
    """Ask payments what the vehicle owes; the answer comes back as an input."""

    placa: str


@dataclass(frozen=True)
class RequestPaymentLink:
    """Ask payments for a link paying ``items`` (the chosen vigencias) of ``placa``.

    ``request_key`` is the idempotency key payments honours: the same key always gets
    the same SCI transaction. Derive it from what is paid, not from the attempt.
    """

    placa: str
    items: tuple[PaymentItem, ...]
    request_key: str


@dataclass(frozen=True)
class HandOver:
    """Hand the conversation to a human agent; the bot stays silent until released."""

    reason: str


@dataclass(frozen=True)
class ChangeLeadState:
    """The lead moved to ``state`` (published on ``crm.lead.state_changed``)."""

    state: str


Command = Reply | LookUpDebt | RequestPaymentLink | HandOver | ChangeLeadState


@dataclass(frozen=True)
class Transition:
    """The result of one step: the new state and what to do, in order."""

    state: FlowState
    commands: tuple[Command, ...] = ()


class Flow(Protocol):
    """A bot flow. ``initial`` is where a new conversation starts; ``restart`` is where
    an expired or released one starts again (it may keep what must outlive a restart,
    such as payments still awaiting confirmation)."""

    name: str

    @property
    def initial(self) -> FlowState: ...

    def restart(self, state: FlowState) -> FlowState: ...

    def step(self, state: FlowState, event: FlowInput) -> Transition: ...
