"""The flow's slots: what a conversation remembers between turns, typed.

Stored as plain JSON (``FlowState.slots``): :meth:`Slots.load` reads it back and
returns ``None`` when it does not validate (a document written by an older flow, a
hand edit), so the flow can start over instead of crashing.

Two slots outlive restarts ("menú", another plate): ``lead`` (the last lead state
reported, so each change is reported once) and ``pending`` (payment links sent and not
yet confirmed, at most :data:`MAX_PENDING`), so a payment confirmed after the customer
moved on is still confirmed, once.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cauce_contracts.fields import Pesos
from cauce_contracts.payments import PaymentItem, Plate, VehicleDebt, Vigencia

#: How many unconfirmed payment links we keep watching.
MAX_PENDING = 5


class _Slot(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_assignment=True)


class DebtSlot(_Slot):
    """One vigencia of the debt, as much as the flow needs to show and pay it."""

    vigencia: Vigencia
    declaracion: int = Field(ge=0)
    impto: Pesos
    sancion: Pesos
    interes: Pesos
    total: Pesos
    fecha_lim: date

    @classmethod
    def of(cls, debt: VehicleDebt) -> Self:
        return cls(
            vigencia=debt.vigencia,
            declaracion=debt.declaracion,
            impto=debt.impto,
            sancion=debt.sancion,
            interes=debt.interes,
            total=debt.total,
            fecha_lim=debt.fecha_lim,
        )


class PendingPayment(_Slot):
    """A payment link sent and not confirmed yet."""

    transaction_id: str
    placa: str
    amount: Pesos
    reference: str


class Slots(_Slot):
    lead: str | None = None
    pending: list[PendingPayment] = Field(default_factory=list)

    placa: Plate | None = None
    debts: list[DebtSlot] = Field(default_factory=list)
    #: Choice ids of the last buttons or list shown, in order ("1" picks the first).
    options: list[str] = Field(default_factory=list)
    items: list[PaymentItem] = Field(default_factory=list)
    request_key: str | None = None
    #: We already told the customer payments is slow for the current request.
    delayed: bool = False

    transaction_id: str | None = None
    url: str | None = None
    amount: Pesos | None = None
    reference: str | None = None

    @classmethod
    def load(cls, raw: Any) -> Self | None:
        try:
            return cls.model_validate(dict(raw))
        except (ValidationError, TypeError, ValueError):
            return None

    def dump(self) -> dict[str, Any]:
        """JSON-ready slots (dates as ISO strings), defaults left out."""
        return self.model_dump(mode="json", exclude_defaults=True)

    def carried(self, **fields: Any) -> Slots:
        """Fresh slots for a new step: only ``lead`` and ``pending`` carry over."""
        return Slots(lead=self.lead, pending=list(self.pending), **fields)

    def pending_payment(self, transaction_id: str) -> PendingPayment | None:
        return next((p for p in self.pending if p.transaction_id == transaction_id), None)

    def watch(self, payment: PendingPayment) -> None:
        others = [p for p in self.pending if p.transaction_id != payment.transaction_id]
        self.pending = [*others, payment][-MAX_PENDING:]

    def forget(self, transaction_id: str) -> None:
        self.pending = [p for p in self.pending if p.transaction_id != transaction_id]
