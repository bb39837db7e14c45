"""The conversation's durable consumers: customer messages, payments' answers, and the
delivery status of the messages it sent (shown on each message of the chat).

Customer messages come through one consumer per partition
(:data:`cauce_contracts.streams.CONVERSATION_INBOUND`), each with one message in
flight across all replicas, so a contact's messages are handled in arrival order and
never at once. Payments' answers come through one consumer; they meet customer
messages only in the conversation's compare-and-set, which is enough: each answer
responds to a request the conversation made, and the flow checks it still fits.
"""

from __future__ import annotations

from datetime import timedelta

from cauce_contracts import streams
from cauce_contracts.inbound import InboundMessageReceived
from cauce_contracts.inbox import ChatChanged
from cauce_contracts.media import InboundMediaRefused, InboundMediaStored
from cauce_contracts.outbound import OutboundStatusChanged
from cauce_conversation.assist.after_resolve import ResolvedChats
from cauce_conversation.customer_files import CustomerFiles, MediaNews
from cauce_conversation.deliveries import Deliveries
from cauce_conversation.payment_answers import PAYMENT_ANSWERS, PaymentAnswer
from cauce_conversation.turns import Turns
from cauce_runtime import Backoff, Bus, ConsumerSpec, Delivery, consumer

#: One per partition. One message in flight per partition across all replicas: a
#: contact's messages are handled in arrival order and never concurrently.
CUSTOMER_MESSAGES: tuple[ConsumerSpec, ...] = tuple(
    ConsumerSpec.of(subscription, max_ack_pending=1, ack_wait=timedelta(seconds=15), max_deliver=8)
    for subscription in streams.CONVERSATION_INBOUND
)
PAYMENT_ANSWERS_SPEC = ConsumerSpec.of(streams.CONVERSATION_PAYMENTS)
DELIVERY_SPEC = ConsumerSpec.of(streams.CONVERSATION_DELIVERY)
#: The news of a file can come before its message is recorded: retried a while.
MEDIA_SPEC = ConsumerSpec.of(streams.CONVERSATION_MEDIA, max_deliver=10)
#: Model calls are slow (two generations, each with its own retries): a long ack wait,
#: few in flight, and a patient backoff for a model that is down.
RESOLVED_SPEC = ConsumerSpec.of(
    streams.CONVERSATION_RESOLVED_CHATS,
    max_ack_pending=4,
    ack_wait=timedelta(minutes=5),
    max_deliver=6,
    backoff=Backoff.of(10, 60, 300, 900),
)


def register_consumers(
    bus: Bus,
    turns: Turns,
    *,
    fetch_timeout: float = 1.0,
    deliveries: Deliveries | None = None,
    files: CustomerFiles | None = None,
    resolved: ResolvedChats | None = None,
) -> None:
    """Declare the conversation's consumers on ``bus`` (before it starts)."""

    async def on_customer_message(event: InboundMessageReceived, delivery: Delivery) -> None:
        await turns.customer_wrote(event)

    for spec in CUSTOMER_MESSAGES:
        consumer(bus, spec, InboundMessageReceived, fetch_timeout=fetch_timeout)(
            on_customer_message
        )

    async def on_payments_answer(event: PaymentAnswer, delivery: Delivery) -> None:
        await turns.payments_answer(event)

    consumer(bus, PAYMENT_ANSWERS_SPEC, PAYMENT_ANSWERS, batch_size=16)(on_payments_answer)

    if deliveries is not None:

        async def on_delivery(event: OutboundStatusChanged, delivery: Delivery) -> None:
            await deliveries.status_changed(event)

        consumer(bus, DELIVERY_SPEC, OutboundStatusChanged, batch_size=32)(on_delivery)

    if files is not None:

        async def on_media(event: MediaNews, delivery: Delivery) -> None:
            await files.reported(event)

        media_events = (InboundMediaStored, InboundMediaRefused)
        consumer(bus, MEDIA_SPEC, media_events, batch_size=16)(on_media)

    if resolved is not None:

        async def on_chat_changed(event: ChatChanged, delivery: Delivery) -> None:
            await resolved.chat_changed(event)

        consumer(bus, RESOLVED_SPEC, ChatChanged, batch_size=8)(on_chat_changed)
