"""Payment links: :class:`PaymentLinkRequested` -> one SCI transaction per
(tenant, request_key) -> :class:`PaymentLinkCreated` or :class:`PaymentLinkFailed`.

Idempotency. ``payments.link_requests`` has one row per (tenant, request_key). A
request first claims the row (:meth:`LinkStore.claim`, one transaction with the row
locked): a new key, or one whose earlier attempt provably created nothing, is marked
``calling`` with a lease, and only then is CrearTransaccion called. The outcome is
written before the message is acked: ``created`` (with SCI's ids and URL) or
``failed``. Every later request with that key, a redelivery or a new request, is
answered from the row without calling SCI; a key already used for other items is
refused (``provider_code="request_key_conflict"``).

Retries. A failure that proves SCI created nothing (connection refused, 5xx other
than 504, 429, 401 twice, a business error) leaves the row ``failed``; retryable ones
are retried by redelivery (see :mod:`cauce_payments.retrying`), a later request with
the same key may try again (the bot's "intentar de nuevo").

The one ambiguous window: the request reached SCI and SCI may have created the
transaction, but we never learnt it: a read timeout, a dropped connection, a 504 from
SCI's gateway, a 200 we cannot read, or this process dying between the call and the
write of its outcome (the row stays ``calling`` past its lease). SCI TOTAL's API offers
no way to look a transaction up by our key, so calling again could create a second
transaction, i.e. charge the customer twice. We never do: the row becomes ``uncertain``
and the requester gets a final :class:`PaymentLinkFailed` (``retryable=False``,
``provider_code="outcome_unknown"``) that says an agent must check, and every later
request with that key gets the same answer. An operator who checked SCI (no
transaction there) releases the key with ``POST /links/{tenant}/{request_key}/release``;
if SCI did create it, its status webhook still updates nothing here (SCI's callback
names only the transaction), which the agent settles by hand. Uncertain rows are
indexed for that review. We prefer a stuck conversation that a human resolves to a
double charge.

Answer ids derive from (request key, request event id): a redelivered request's answer
is dropped by JetStream's duplicate window, while a new request with the same key gets
its own answer (same link), so the conversation that asked again always hears back.
"""

from __future__ import annotations

import logging
import uuid

from cauce_contracts.envelope import stable_event_id
from cauce_contracts.payments import PaymentLinkCreated, PaymentLinkFailed, PaymentLinkRequested
from cauce_contracts.registry import subject_of
from cauce_payments.answers import answering
from cauce_payments.retrying import announce_retry, reason_for, retry_later, will_retry
from cauce_payments.sci_total import CreatedTransaction, SciError, SciOutcomeUnknown, SciTotalClient
from cauce_payments.store import ClaimKind, LinkRecord, LinkStore
from cauce_runtime import Bus, Delivery, TransientError

logger = logging.getLogger(__name__)

OUTCOME_UNKNOWN_REASON = (
    "SCI TOTAL no confirmó si creó la transacción de pago. Para no cobrar dos veces, un "
    "asesor debe verificarla antes de generar otro enlace."
)
CONFLICT_REASON = "Esta solicitud de pago no coincide con una anterior de la misma clave."


class PaymentLinks:
    def __init__(
        self,
        bus: Bus,
        sci: SciTotalClient,
        store: LinkStore,
        *,
        default_email: str,
        lease_s: float,
        retry_delay_s: float | None = None,
    ) -> None:
        self.bus, self.sci, self.store = bus, sci, store
        self.default_email = default_email
        self.lease_s = lease_s
        self.retry_delay_s = retry_delay_s

    async def handle(self, request: PaymentLinkRequested, delivery: Delivery) -> None:
        claim = await self.store.claim(request, self.lease_s)
        if claim.kind is ClaimKind.CREATED:
            await self._created(request, claim.record.created())
            return
        if claim.kind is ClaimKind.UNCERTAIN:
            await self._failed(request, OUTCOME_UNKNOWN_REASON, "outcome_unknown", retryable=False)
            return
        if claim.kind is ClaimKind.CONFLICT:
            await self._failed(request, CONFLICT_REASON, "request_key_conflict", retryable=False)
            return
        if claim.kind is ClaimKind.BUSY:
            raise TransientError(
                "another worker is creating this payment link", retry_after=claim.wait_s + 0.5
            )
        await self._call_sci(request, delivery, claim.record)

    async def _call_sci(
        self, request: PaymentLinkRequested, delivery: Delivery, record: LinkRecord
    ) -> None:
        key = (request.tenant_id, request.request_key)
        try:
            transaction = await self.sci.create_transaction(
                email=request.email or self.default_email,
                amount=request.amount,
                description=request.description or _description(request),
                items=request.items,
            )
        except SciOutcomeUnknown as error:
            logger.error(
                "payment link %s/%s: SCI outcome unknown (%s); marked uncertain, not retried",
                *key,
                error.code,
            )
            await self.store.mark_failed(
                *key, reason=error.message, provider_code="outcome_unknown", retryable=False,
                uncertain=True,
            )  # fmt: skip
            await self._failed(request, OUTCOME_UNKNOWN_REASON, "outcome_unknown", retryable=False)
            return
        except SciError as error:
            retrying = will_retry(error, delivery)
            await self.store.mark_failed(
                *key, reason=error.message, provider_code=error.code, retryable=error.retryable
            )
            if retrying and not announce_retry(delivery):
                raise retry_later(error, self.retry_delay_s) from error
            await self._failed(
                request,
                reason_for(error),
                error.code,
                retryable=error.retryable,
                will_retry=retrying,
            )
            if retrying:
                raise retry_later(error, self.retry_delay_s) from error
            return
        await self.store.mark_created(*key, transaction)
        await self._created(request, transaction)

    async def _created(self, request: PaymentLinkRequested, tx: CreatedTransaction) -> None:
        answer = PaymentLinkCreated(
            **answering(request, _answer_id(request, "link.created")),
            url=tx.url,
            transaction_id=tx.transaction_id,
            payment_id=tx.payment_id,
            sci_payment_id=tx.sci_payment_id,
            sci_transaction_id=tx.sci_transaction_id,
            payment_reference=tx.payment_reference,
            amount=request.amount,
        )
        await self.bus.publish(answer, subject_of(answer))

    async def _failed(
        self,
        request: PaymentLinkRequested,
        reason: str,
        provider_code: str,
        *,
        retryable: bool,
        will_retry: bool = False,
    ) -> None:
        answer = PaymentLinkFailed(
            **answering(
                request, _answer_id(request, "link.failed" + (".retrying" if will_retry else ""))
            ),
            reason=reason,
            provider_code=provider_code,
            retryable=retryable,
            will_retry=will_retry,
        )
        await self.bus.publish(answer, subject_of(answer))


def _answer_id(request: PaymentLinkRequested, what: str) -> uuid.UUID:
    return stable_event_id(
        "payments", request.tenant_id, request.request_key, str(request.event_id), what
    )


def _description(request: PaymentLinkRequested) -> str:
    vigencias = ", ".join(
        str(item.vigencia) for item in sorted(request.items, key=lambda i: i.vigencia)
    )
    return f"Impuesto vehicular {request.placa} vigencia {vigencias}"
