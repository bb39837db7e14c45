"""The conversation's durable consumers: customer messages and payments' answers.

Customer messages come through one consumer per partition
(:data:`cauce_contracts.streams.CONVERSATION_INBOUND`), each with one message in
flight across all replicas, so a contact's messages are handled in arrival order and
never at once. Payments' answers come through one consumer; they meet customer
messages only in the conversation's compare-and-set, which is enough: each answer
responds to a request the conversation made, and the flow checks it still fits.
"""

from __future__ import annotations

from cauce_contracts import streams
from cauce_contracts.inbound import InboundMessageReceived
from cauce_conversation.payment_answers import PAYMENT_ANSWERS, PaymentAnswer, understood
from cauce_conversation.turns import Turns
from cauce_runtime.bus import Bus
from cauce_runtime.consumers import Delivery, consumer


def register_consumers(bus: Bus, turns: Turns, *, fetch_timeout: float = 1.0) -> None:
    """Declare the conversation's consumers on ``bus`` (before it starts)."""

    async def on_customer_message(event: InboundMessageReceived, delivery: Delivery) -> None:
        await turns.customer_wrote(event)

    for spec in streams.CONVERSATION_INBOUND:
        consumer(bus, spec, InboundMessageReceived, fetch_timeout=fetch_timeout)(
            on_customer_message
        )

    async def on_payments_answer(event: PaymentAnswer, delivery: Delivery) -> None:
        answer = await understood(event, turns.store)
        if answer is not None:
            cid, heard = answer
            await turns.payments_answered(cid, event, heard)

    consumer(bus, streams.CONVERSATION_PAYMENTS, PAYMENT_ANSWERS, batch_size=16)(on_payments_answer)
