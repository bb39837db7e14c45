"""The steps of the vehicle-tax flow (``FlowState.step``)."""

from __future__ import annotations

from enum import StrEnum


class Step(StrEnum):
    #: A new or expired conversation: anything the customer sends is greeted.
    START = "start"
    #: We asked for the plate.
    AWAITING_PLATE = "awaiting_plate"
    #: ``LookUpDebt`` sent, waiting for payments (slots: placa).
    LOOKING_UP = "looking_up"
    #: The lookup failed for good; a "Reintentar" button re-issues it (slots: placa).
    LOOKUP_FAILED = "lookup_failed"
    #: Debt shown, the customer chooses what to pay (slots: placa, debts, options).
    CHOOSING = "choosing"
    #: ``RequestPaymentLink`` sent (slots: placa, debts, items, request_key).
    AWAITING_LINK = "awaiting_link"
    #: The link request failed for good; "Reintentar" re-issues it with the same key.
    LINK_FAILED = "link_failed"
    #: Link sent (slots: transaction_id, url, amount, reference, items, request_key).
    AWAITING_PAYMENT = "awaiting_payment"
    #: SCI rejected / failed / expired the payment; "Reintentar pago" asks the link again.
    PAYMENT_FAILED = "payment_failed"
    #: Payment confirmed. A new plate starts another lookup.
    PAID = "paid"
    #: A human has the conversation: the flow stays silent (the service resets the
    #: conversation to ``initial`` when the agent releases it).
    HANDED_OVER = "handed_over"


#: Steps where we wait for payments: texts get "sigo consultando", no new command.
WAITING_STEPS = frozenset({Step.LOOKING_UP, Step.AWAITING_LINK})
