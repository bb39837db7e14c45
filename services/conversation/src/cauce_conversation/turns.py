"""One turn of a conversation: an event in, the flow stepped, its effects out, once.

A turn reads the conversation, steps the flow, and writes the new state together with
the events it causes (the outbox) in one compare-and-set on the conversation's
``version``; then it publishes those events and clears them. So:

- two writers (replicas, the payments answers, the inbox API) never overwrite each
  other: the loser re-reads and decides again on fresh state;
- a redelivered or duplicate event changes nothing: the ids of applied events are kept
  (bounded) in the conversation, and an applied event only re-publishes what may not
  have been published yet;
- a customer message replayed long after (a channel re-sending a webhook days later,
  past both JetStream's duplicate window and the bounded ids) is not a second turn
  either: its stored message is marked once its turn is written, and a message found
  already recorded *and* marked is not decided again;
- a crash after the write and before the publish loses nothing: the outbox is
  published by the next turn (or the redelivery), with the same event ids.

Arrival order of one contact's messages is the consumers' job (per-contact partitions,
one message in flight each: see ``cauce_contracts.subjects``).

:class:`Turns` depends on :class:`TurnStore` and the runtime's ``Publisher``, which
:class:`~cauce_conversation.store.ConversationStore` and the bus implement; the unit
tests (``tests/unit``) run it on an in-memory store and bus.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from cauce_contracts.envelope import Event, utc_now
from cauce_contracts.identity import BotMode
from cauce_contracts.inbound import InboundMessageReceived
from cauce_contracts.outbound import MarkReadContent, OutboundMessageRequested
from cauce_conversation.chat_feed import ChatFeed
from cauce_conversation.commands import Effects, carry_out
from cauce_conversation.company_bots import CompanyBots
from cauce_conversation.customer_input import flow_input_of, inbox_text
from cauce_conversation.flows.vocabulary import Flow, FlowInput, FlowState
from cauce_conversation.model import (
    Conversation,
    ConversationStatus,
    MessageRecord,
    conversation_id,
)
from cauce_conversation.outbox import Pending
from cauce_conversation.payment_answers import PaymentAnswer, Reports, understood
from cauce_conversation.snoozes import awake
from cauce_runtime import Publisher, TransientError

logger = logging.getLogger(__name__)

#: How many applied event ids a conversation remembers (duplicates arrive within hours,
#: each turn applies one event, so this covers far more than any redelivery window).
APPLIED_EVENTS_KEPT = 100
#: Compare-and-set attempts before giving up on this delivery (it is then retried).
MAX_WRITE_ATTEMPTS = 8

Decision = tuple[Conversation, Effects]


class TurnStore(Reports, Protocol):
    """Conversations, messages and reports as turns use them (what
    :class:`~cauce_conversation.store.ConversationStore` promises)."""

    async def get(self, conversation_id: str) -> Conversation | None: ...

    async def create(self, conversation: Conversation) -> Conversation:
        """Insert ``conversation``, or return the stored one when it exists already
        (racing creators converge on one)."""
        ...

    async def save(self, conversation: Conversation) -> Conversation | None:
        """Compare-and-set on ``version``: the conversation written (``version + 1``),
        or None when someone wrote since it was read (or it does not exist)."""
        ...

    async def add_message(self, message: MessageRecord) -> bool:
        """Record ``message``; False when its id is already there (a replay)."""
        ...

    async def mark_turn_taken(self, message_id: str) -> None:
        """Note that the turn for the (inbound) message was written."""
        ...

    async def turn_taken(self, message_id: str) -> bool:
        """Whether :meth:`mark_turn_taken` was called for the message."""
        ...


@dataclass
class Turns:
    """Runs turns against the store, the bus and one flow."""

    store: TurnStore
    bus: Publisher
    flow: Flow
    idle_expiry: timedelta
    clock: Callable[[], datetime] = utc_now
    #: Which bot answers each company (the vehicle-tax flow, none, or agents only).
    bots: CompanyBots = field(default_factory=CompanyBots)
    #: Announces each turn to agents' screens (None: nobody follows).
    feed: ChatFeed | None = None

    # --- the two kinds of turns ------------------------------------------------------

    async def customer_wrote(self, event: InboundMessageReceived) -> None:
        """A customer message: record it, then let the flow answer (unless a human has
        the conversation, or the message is not a turn, like a reaction)."""
        cid = conversation_id(event.tenant_id, event.channel, event.contact_key)
        message_id = f"{event.channel.value}:{event.provider_message_id}"
        recorded = await self.store.add_message(
            MessageRecord(
                id=message_id,
                conversation_id=cid,
                tenant_id=event.tenant_id,
                direction="inbound",
                author="customer",
                type=event.message.type,
                text=inbox_text(event.message),
                payload=event.message.model_dump(mode="json"),
                provider_message_id=event.provider_message_id,
                # When we handled it, not the provider's whole-second timestamp: the
                # history then interleaves with the bot's answers in the real order.
                at=self.clock(),
            )
        )
        if not recorded and await self.store.turn_taken(message_id):
            logger.info("message %s already had its turn; replay ignored", event.event_id)
            return
        heard = flow_input_of(event.message)

        def decide(conversation: Conversation) -> Decision:
            now = self.clock()
            state = FlowState(conversation.step, conversation.slots)
            if self._expired(conversation, now):
                state = self.flow.restart(state)
            last_at = conversation.last_inbound_at
            latest = event.sent_at if last_at is None else max(last_at, event.sent_at)
            updated = conversation.model_copy(
                update={
                    "channel_account_id": event.channel_account_id,
                    "contact_address": event.contact.address,
                    "profile_name": event.contact.profile_name or conversation.profile_name,
                    "last_inbound_at": latest,
                    "last_inbound_message_id": event.provider_message_id,
                    "unread": True,
                    "step": state.step,
                    "slots": dict(state.slots),
                    "status": ConversationStatus.OPEN
                    if conversation.status is ConversationStatus.CLOSED
                    else conversation.status,
                }
            )
            if updated.status is ConversationStatus.SNOOZED and updated.unsnooze_on_reply:
                updated = awake(updated)  # snoozed until the customer writes: they did
            return self._step(updated, heard, event, now, mark_read=event.provider_message_id)

        await self._turn(cid, event, decide, create=lambda: self._new_conversation(cid, event))
        await self.store.mark_turn_taken(message_id)

    async def payments_answer(self, answer: PaymentAnswer) -> None:
        """An answer from payments: recorded, then heard by the conversation it belongs
        to (a payment status finds it through its transaction's report); an answer
        about a transaction no conversation of ours created is ignored."""
        found = await understood(answer, self.store)
        if found is not None:
            cid, heard = found
            await self.payments_answered(cid, answer, heard)

    async def payments_answered(self, cid: str, event: Event, heard: FlowInput) -> None:
        """An answer from payments (debt, link, payment status) for conversation ``cid``."""

        def decide(conversation: Conversation) -> Decision:
            return self._step(conversation, heard, event, self.clock(), mark_read=None)

        await self._turn(cid, event, decide, create=None)

    # --- the turn itself ---------------------------------------------------------------

    def _step(
        self,
        conversation: Conversation,
        heard: FlowInput | None,
        cause: Event,
        now: datetime,
        *,
        mark_read: str | None,
    ) -> Decision:
        if heard is None or conversation.handed_over:
            return conversation, Effects()
        mode = self.bots.mode_of(conversation.tenant_id)
        if mode is BotMode.HUMAN_ONLY:  # straight to the agents' queue
            return waiting_for_an_agent(conversation, now), Effects()
        if mode is BotMode.NONE:  # kept for the inbox, nobody answers automatically
            return conversation, Effects()
        transition = self.flow.step(FlowState(conversation.step, conversation.slots), heard)
        effects = carry_out(transition.commands, conversation, cause, now, mark_read=mark_read)
        update: dict[str, Any] = {
            "step": transition.state.step,
            "slots": dict(transition.state.slots),
        }
        if effects.handed_over:
            conversation = waiting_for_an_agent(conversation, now)
        if effects.lead_state is not None:
            update["lead_state"] = effects.lead_state
        return conversation.model_copy(update=update), effects

    async def _turn(
        self,
        cid: str,
        cause: Event,
        decide: Callable[[Conversation], Decision],
        *,
        create: Callable[[], Conversation] | None,
    ) -> None:
        applied_id = str(cause.event_id)
        for _ in range(MAX_WRITE_ATTEMPTS):
            conversation = await self.store.get(cid)
            if conversation is None:
                if create is None:
                    logger.warning("no conversation %s for %s; ignored", cid, cause.event_type)
                    return
                conversation = await self.store.create(create())
            if applied_id in conversation.applied_event_ids:
                await self._flush(conversation)  # a replay: only what may be unpublished
                return
            if conversation.outbox:
                await self._flush(conversation)  # a crashed turn's events go first
                continue
            updated, effects = decide(conversation)
            updated = updated.model_copy(
                update={
                    "applied_event_ids": [*conversation.applied_event_ids, applied_id][
                        -APPLIED_EVENTS_KEPT:
                    ],
                    "outbox": [pending.to_document() for pending in effects.pending],
                }
            )
            saved = await self.store.save(updated)
            if saved is None:
                continue  # someone wrote since we read: decide again on fresh state
            await self._flush(saved)
            if self.feed is not None:
                handed_over = saved.handed_over and not conversation.handed_over
                await self.feed.changed(saved, "handover" if handed_over else "message")
            return
        raise TransientError(f"conversation {cid} kept changing under {MAX_WRITE_ATTEMPTS} writes")

    async def _flush(self, conversation: Conversation) -> None:
        """Publish the conversation's outbox in order, record replies, then clear it."""
        if not conversation.outbox:
            return
        published: set[str] = set()
        for document in conversation.outbox:
            pending = Pending.from_document(document)
            await self.bus.publish(pending.event, pending.subject, msg_id=pending.event_id)
            published.add(pending.event_id)
            if isinstance(pending.event, OutboundMessageRequested):
                await self._record_reply(conversation, pending.event)
        await self._clear_outbox(conversation, published)

    async def _clear_outbox(self, conversation: Conversation, published: set[str]) -> None:
        current: Conversation | None = conversation
        for _ in range(MAX_WRITE_ATTEMPTS):
            if current is None:
                return
            remaining = [
                doc for doc in current.outbox if str(doc["event"]["event_id"]) not in published
            ]
            if len(remaining) == len(current.outbox):
                return
            saved = await self.store.save(current.model_copy(update={"outbox": remaining}))
            if saved is not None:
                return
            current = await self.store.get(conversation.id)
        # Still there: published again by the next turn, dropped as duplicates downstream.
        logger.warning("conversation %s: outbox not cleared after publishing", conversation.id)

    async def _record_reply(
        self, conversation: Conversation, request: OutboundMessageRequested
    ) -> None:
        content = request.content
        if isinstance(content, MarkReadContent):
            return
        text = getattr(content, "body", None) or getattr(content, "name", None)
        await self.store.add_message(
            MessageRecord(
                id=str(request.event_id),
                conversation_id=conversation.id,
                tenant_id=conversation.tenant_id,
                direction="outbound",
                author="bot",
                type=content.type,
                text=text,
                payload=content.model_dump(mode="json"),
                at=request.occurred_at,
            )
        )

    # --- helpers -------------------------------------------------------------------------

    def _expired(self, conversation: Conversation, now: datetime) -> bool:
        last = conversation.last_inbound_at
        return last is not None and not conversation.handed_over and now - last > self.idle_expiry

    def _new_conversation(self, cid: str, event: InboundMessageReceived) -> Conversation:
        initial = self.flow.initial
        return Conversation(
            id=cid,
            tenant_id=event.tenant_id,
            channel=event.channel,
            contact_key=event.contact_key,
            channel_account_id=event.channel_account_id,
            contact_address=event.contact.address,
            profile_name=event.contact.profile_name,
            flow=self.flow.name,
            step=initial.step,
            slots=dict(initial.slots),
        )


def waiting_for_an_agent(conversation: Conversation, now: datetime) -> Conversation:
    """Handed over to the humans: pending, in its team's queue (the assigner gives it to
    an agent) unless an agent already has it."""
    update: dict[str, Any] = {"handed_over": True, "status": ConversationStatus.PENDING}
    if conversation.assignee is None and conversation.queued_at is None:
        update["queued_at"] = now
    return conversation.model_copy(update=update)
