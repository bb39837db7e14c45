"""Carrying out a flow's commands: the events a turn publishes.

Replies become ``outbound.message.requested`` for the notifier, lookups and link
requests become ``payments.*`` requests, lead states ``crm.lead.state_changed``. Every
event id is derived from the causing event and the command's position, so the same
turn replayed yields the same events (and the notifier, payments and crm-sync, all
idempotent on ``event_id``, do nothing twice).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from cauce_contracts.crm import LeadStateChanged
from cauce_contracts.envelope import Event, stable_event_id
from cauce_contracts.outbound import MarkReadContent, OutboundContent, OutboundMessageRequested
from cauce_contracts.payments import DebtLookupRequested, PaymentLinkRequested
from cauce_contracts.subjects import Channel
from cauce_conversation.flows.vocabulary import (
    ChangeLeadState,
    Command,
    HandOver,
    LookUpDebt,
    Reply,
    RequestPaymentLink,
)
from cauce_conversation.model import Conversation
from cauce_conversation.outbox import Pending

#: Namespace of payment-link request keys (uuid5 of conversation id and the flow's key).
_REQUEST_KEY_NAMESPACE = uuid.UUID("5e0f7a1c-2b7d-4c55-8f3e-6d1a9b2c4e88")
#: Channels whose API has read receipts with a typing indicator (Meta's format).
_READ_RECEIPT_CHANNELS = frozenset({Channel.WHATSAPP, Channel.YCLOUD})


@dataclass
class Effects:
    """What a turn's commands amount to."""

    pending: list[Pending] = field(default_factory=list)
    #: The replies among ``pending`` (recorded as the conversation's outbound messages).
    replies: list[OutboundMessageRequested] = field(default_factory=list)
    handed_over: bool = False
    lead_state: str | None = None


def request_key(conversation_id: str, flow_key: str) -> str:
    """The payments idempotency key: one per conversation and thing being paid."""
    return uuid.uuid5(_REQUEST_KEY_NAMESPACE, f"{conversation_id}\x1f{flow_key}").hex


class _Envelope:
    """Envelope fields of the events caused by one event, numbered in order."""

    def __init__(self, cause: Event, conversation: Conversation) -> None:
        self.cause = cause
        self.conversation = conversation
        self.index = 0

    def next(self) -> dict[str, object]:
        self.index += 1
        return {
            "event_id": stable_event_id("conversation", str(self.cause.event_id), str(self.index)),
            "tenant_id": self.conversation.tenant_id,
            "correlation_id": self.cause.correlation_id,
            "causation_id": str(self.cause.event_id),
        }


def carry_out(
    commands: tuple[Command, ...],
    conversation: Conversation,
    cause: Event,
    now: datetime,
    *,
    mark_read: str | None = None,
) -> Effects:
    """The events and conversation changes ``commands`` mean, in order.

    ``mark_read`` is the provider id of the customer message being answered: when the
    bot replies, that message is first marked read with a typing indicator.
    """
    effects = Effects()
    envelope = _Envelope(cause, conversation)
    replying = any(isinstance(command, Reply) for command in commands)
    if mark_read and replying and conversation.channel in _READ_RECEIPT_CHANNELS:
        receipt = MarkReadContent(message_id=mark_read, typing_indicator=True)
        effects.pending.append(Pending(_outbound(receipt, conversation, envelope)))
    for command in commands:
        if isinstance(command, Reply):
            reply = _outbound(command.content, conversation, envelope)
            effects.pending.append(Pending(reply))
            effects.replies.append(reply)
        elif isinstance(command, LookUpDebt):
            effects.pending.append(Pending(_lookup(command, conversation, envelope)))
        elif isinstance(command, RequestPaymentLink):
            effects.pending.append(Pending(_link_request(command, conversation, envelope)))
        elif isinstance(command, HandOver):
            effects.handed_over = True
        elif isinstance(command, ChangeLeadState):
            previous = effects.lead_state or conversation.lead_state
            if command.state != previous:
                event = LeadStateChanged(
                    **envelope.next(),
                    manychat_id=conversation.contact_key,
                    previous_state=previous,
                    new_state=command.state,
                    changed_at=now,
                    source="conversation",
                )
                effects.pending.append(Pending(event))
                effects.lead_state = command.state
    return effects


def _outbound(
    content: OutboundContent, conversation: Conversation, envelope: _Envelope
) -> OutboundMessageRequested:
    return OutboundMessageRequested(
        **envelope.next(),
        channel=conversation.channel,
        contact_key=conversation.contact_key,
        channel_account_id=conversation.channel_account_id,
        recipient=conversation.contact_address,
        content=content,
    )


def _lookup(
    command: LookUpDebt, conversation: Conversation, envelope: _Envelope
) -> DebtLookupRequested:
    return DebtLookupRequested(
        **envelope.next(),
        channel=conversation.channel,
        contact_key=conversation.contact_key,
        placa=command.placa,
    )


def _link_request(
    command: RequestPaymentLink, conversation: Conversation, envelope: _Envelope
) -> PaymentLinkRequested:
    return PaymentLinkRequested(
        **envelope.next(),
        channel=conversation.channel,
        contact_key=conversation.contact_key,
        request_key=request_key(conversation.id, command.request_key),
        placa=command.placa,
        items=command.items,
        amount=sum(item.amount for item in command.items),
        description=f"Impuesto vehicular {command.placa}",
    )
