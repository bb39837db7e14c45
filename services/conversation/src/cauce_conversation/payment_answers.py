"""What the bot hears from payments: debt lookups, payment links, payment statuses.

Every answer is kept as a :class:`~cauce_conversation.model.Report` (the seed's Report:
debts looked up, transactions created) before the flow hears it; a transaction's
report is also how a status update, which names only the SCI transaction, finds its
conversation.
"""

from __future__ import annotations

from typing import Protocol

from cauce_contracts.payments import (
    DebtLookedUp,
    DebtLookupFailed,
    PaymentLinkCreated,
    PaymentLinkFailed,
    PaymentTransactionStatusChanged,
)
from cauce_conversation.flows.vocabulary import (
    DebtFound,
    DebtLookupUnavailable,
    DebtNotFound,
    FlowInput,
    PaymentLinkReady,
    PaymentLinkUnavailable,
    PaymentStatusChanged,
)
from cauce_conversation.model import Report, conversation_id

#: The payments events the conversation consumes (``CONVERSATION_PAYMENTS``).
PaymentAnswer = (
    DebtLookedUp
    | DebtLookupFailed
    | PaymentLinkCreated
    | PaymentLinkFailed
    | PaymentTransactionStatusChanged
)
PAYMENT_ANSWERS = (
    DebtLookedUp,
    DebtLookupFailed,
    PaymentLinkCreated,
    PaymentLinkFailed,
    PaymentTransactionStatusChanged,
)


class Reports(Protocol):
    """Where answers are kept (:class:`~cauce_conversation.store.ConversationStore`)."""

    async def add_report(self, report: Report) -> bool:
        """Record ``report``; False when its id (or, for a transaction, its tenant and
        transaction id) is already recorded."""
        ...

    async def find_transaction_report(self, tenant_id: str, transaction_id: str) -> Report | None:
        """The report of the transaction ``transaction_id`` of ``tenant_id``, if any."""
        ...


async def understood(answer: PaymentAnswer, store: Reports) -> tuple[str, FlowInput] | None:
    """The conversation an answer belongs to and what it means to the flow, after
    recording it; ``None`` for a transaction no conversation of ours created."""
    if isinstance(answer, PaymentTransactionStatusChanged):
        report = await store.find_transaction_report(answer.tenant_id, answer.transaction_id)
        if report is None:
            return None
        heard: FlowInput = PaymentStatusChanged(
            transaction_id=answer.transaction_id, status=answer.status, amount=answer.amount
        )
        return report.conversation_id, heard
    cid = conversation_id(answer.tenant_id, answer.channel, answer.contact_key)
    if isinstance(answer, DebtLookedUp):
        await store.add_report(
            Report(
                id=f"lookup:{answer.request_id}",
                conversation_id=cid,
                tenant_id=answer.tenant_id,
                kind="debt_lookup",
                placa=answer.placa,
                report={"debts": [debt.model_dump(mode="json") for debt in answer.debts]},
                at=answer.occurred_at,
            )
        )
        if not answer.debts:
            return cid, DebtNotFound(answer.placa)
        return cid, DebtFound(answer.placa, answer.debts)
    if isinstance(answer, DebtLookupFailed):
        return cid, DebtLookupUnavailable(answer.placa, answer.reason, answer.will_retry)
    if isinstance(answer, PaymentLinkCreated):
        await store.add_report(
            Report(
                id=f"transaction:{answer.transaction_id}",
                conversation_id=cid,
                tenant_id=answer.tenant_id,
                kind="transaction",
                transaction_id=answer.transaction_id,
                report=answer.model_dump(mode="json", exclude={"tenant_id", "contact_key"}),
                at=answer.occurred_at,
            )
        )
        return cid, PaymentLinkReady(
            url=answer.url,
            amount=answer.amount,
            transaction_id=answer.transaction_id,
            payment_reference=answer.payment_reference,
        )
    return cid, PaymentLinkUnavailable(answer.reason, answer.will_retry)
