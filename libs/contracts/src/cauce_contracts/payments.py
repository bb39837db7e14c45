"""Payment events: vehicle-tax debt lookups and SCI TOTAL payment links.

Money is :data:`~cauce_contracts.fields.Pesos`: whole Colombian pesos as ``int``,
exactly as SCI TOTAL reports them (no cents, no float rounding).

Lookups and links are asked for from a conversation and answered to it, so those
events carry ``channel`` + ``contact_key`` and travel on
``payments.<event>.{tenant_id}.{channel}.{contact_key}``; answers name the request
they answer in ``request_id`` (the request's ``event_id``). A transaction's status
comes from SCI's webhook, which knows only the transaction, so it travels on
``payments.transaction.status_changed.{tenant_id}.{transaction_id}``.
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated, Self

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from cauce_contracts import subjects
from cauce_contracts.crm import Email
from cauce_contracts.envelope import Contract, Event
from cauce_contracts.fields import (
    ContactKey,
    LongText,
    Pesos,
    ProviderId,
    ShortText,
    SubjectToken,
    WebUrl,
)
from cauce_contracts.subjects import Channel

#: A vehicle plate, upper case without separators. Colombian formats are ``ABC123``
#: (cars) and ``ABC12D`` (motorcycles); the bot validates those strictly, the
#: contract only the shape, so other plate kinds can be looked up too.
Plate = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{5,8}$")]
#: A tax year.
Vigencia = Annotated[int, Field(ge=1990, le=2100)]
#: DANE municipality / department code as SCI sends it (``"307"``, ``"68"``).
DaneCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,5}$")]


class _ConversationEvent(Event):
    """A payment event asked for by, or answered to, one conversation."""

    channel: Channel
    contact_key: ContactKey


class VehicleDebt(Contract):
    """One tax year's debt of a vehicle (SCI TOTAL's debt record, snake_cased)."""

    placa: Plate
    declaracion: int = Field(ge=0)
    vigencia: Vigencia
    avaluo: Pesos
    impto: Pesos
    sancion: Pesos
    interes: Pesos
    saldo_pagar: Pesos
    total: Pesos
    #: Last day to pay this amount (SCI's ``fechaLim``; a date, it has no time zone).
    fecha_lim: date
    codi_muni_matr: DaneCode | None = None
    codi_depto_matr: DaneCode | None = None
    muni_matr: ShortText | None = None
    depto_matr: ShortText | None = None
    codi_muni_dest: DaneCode | None = None
    codi_depto_dest: DaneCode | None = None
    muni_dest: ShortText | None = None
    depto_dest: ShortText | None = None
    valor_muni: Pesos | None = None
    valor_depto: Pesos | None = None


class DebtLookupRequested(_ConversationEvent):
    """Someone asked what a vehicle owes."""

    EVENT_TYPE = subjects.PAYMENTS_DEBT_LOOKUP_REQUESTED

    placa: Plate


class DebtLookedUp(_ConversationEvent):
    """The debt lookup finished: ``debts`` is empty when the vehicle owes nothing
    (or is unknown to SCI)."""

    EVENT_TYPE = subjects.PAYMENTS_DEBT_LOOKED_UP

    request_id: uuid.UUID
    placa: Plate
    debts: tuple[VehicleDebt, ...] = Field(default=(), max_length=50)


class DebtLookupFailed(_ConversationEvent):
    """The debt lookup could not be done (provider down, bad reply).

    With ``will_retry`` payments is still trying: it says so once, on the first failed
    attempt, so the customer hears why they wait; a :class:`DebtLookedUp` (or a final
    failure without ``will_retry``) follows.
    """

    EVENT_TYPE = subjects.PAYMENTS_DEBT_LOOKUP_FAILED

    request_id: uuid.UUID
    placa: Plate
    reason: LongText
    #: True when asking again later may succeed (timeouts, 5xx).
    retryable: bool
    #: True when payments keeps retrying this request on its own.
    will_retry: bool = False


class PaymentItem(Contract):
    """One tax declaration being paid (a vigencia of the vehicle's debt)."""

    declaracion: int = Field(ge=0)
    vigencia: Vigencia
    amount: Pesos = Field(gt=0)


class PaymentLinkRequested(_ConversationEvent):
    """A payment link is wanted for one or more of a vehicle's declarations.

    ``request_key`` is the idempotency key: payments creates at most one SCI
    transaction per (tenant, request_key) and answers every later request with that
    key with the same link. Requesters derive it from what is paid (conversation and
    declarations), so asking twice for the same debt never creates two transactions.
    """

    EVENT_TYPE = subjects.PAYMENTS_LINK_REQUESTED

    request_key: SubjectToken
    placa: Plate
    items: tuple[PaymentItem, ...] = Field(min_length=1, max_length=20)
    #: The sum of the items' amounts (checked).
    amount: Pesos = Field(gt=0)
    description: ShortText | None = None
    #: The payer's e-mail for SCI's receipt; payments uses its configured default if absent.
    email: Email | None = None

    @model_validator(mode="after")
    def _amount_is_the_sum(self) -> Self:
        total = sum(item.amount for item in self.items)
        if total != self.amount:
            raise ValueError(f"amount {self.amount} is not the sum of the items ({total})")
        declarations = [item.declaracion for item in self.items]
        if len(set(declarations)) != len(declarations):
            raise ValueError("each declaracion may be paid once per link")
        return self


class PaymentLinkCreated(_ConversationEvent):
    """SCI TOTAL created the transaction; ``url`` is where the customer pays."""

    EVENT_TYPE = subjects.PAYMENTS_LINK_CREATED

    request_id: uuid.UUID
    url: WebUrl
    #: SCI's ``transactionId`` (also the token of the transaction's status subject).
    transaction_id: SubjectToken
    payment_id: ProviderId
    sci_payment_id: int = Field(ge=0)
    sci_transaction_id: int = Field(ge=0)
    payment_reference: ProviderId
    amount: Pesos
    expires_at: AwareDatetime | None = None


class PaymentLinkFailed(_ConversationEvent):
    """No payment link could be created."""

    EVENT_TYPE = subjects.PAYMENTS_LINK_FAILED

    request_id: uuid.UUID
    reason: LongText
    provider_code: ShortText | None = None
    #: True when asking again later may succeed (timeouts, 5xx, expired token).
    retryable: bool
    #: True when payments keeps retrying this request on its own (see
    #: :class:`DebtLookupFailed`); a :class:`PaymentLinkCreated` or a final failure follows.
    will_retry: bool = False


class TransactionStatus(StrEnum):
    """A payment's state, normalised from SCI TOTAL's status texts."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    FAILED = "failed"
    EXPIRED = "expired"


class PaymentTransactionStatusChanged(Event):
    """SCI TOTAL reported a new status for a transaction."""

    EVENT_TYPE = subjects.PAYMENTS_TRANSACTION_STATUS_CHANGED

    transaction_id: SubjectToken
    status: TransactionStatus
    #: SCI's own status text, kept for audit and for statuses we map coarsely.
    provider_status: ShortText
    payment_reference: ProviderId | None = None
    amount: Pesos | None = None
    status_at: AwareDatetime
