"""The request bodies the SCI TOTAL fake accepts, validated strictly so a client bug
shows up here, and the transactions it creates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

PayStatus = Literal["APROBADA", "RECHAZADA"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DebtQuery(_Strict):
    placa: StrictStr


class DispersionLine(_Strict):
    referencia: StrictStr = Field(min_length=1, max_length=64)
    valor: StrictInt = Field(gt=0)
    vigencia: StrictInt = Field(ge=1990, le=2100)


class TransactionRequest(_Strict):
    email: StrictStr = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    valorTotal: StrictInt = Field(gt=0)
    descripcionPago: StrictStr = Field(min_length=1, max_length=256)
    idParametro: StrictStr | StrictInt
    idCliente: StrictStr | StrictInt
    dispersion: list[DispersionLine] = Field(min_length=1, max_length=50)


class PayRequest(_Strict):
    status: PayStatus = "APROBADA"


@dataclass
class Transaction:
    """One transaction the fake created."""

    transaction_id: str
    payment_id: str
    sci_payment_id: int
    sci_transaction_id: int
    payment_reference: str
    url: str
    amount: int
    email: str
    description: str
    lines: list[dict[str, Any]]
    status: str = "PENDIENTE"
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    status_at: datetime | None = None
    webhooks: list[dict[str, Any]] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        return {
            "transactionId": self.transaction_id,
            "paymentId": self.payment_id,
            "sciPaymentId": self.sci_payment_id,
            "sciTransactionId": self.sci_transaction_id,
            "paymentReference": self.payment_reference,
            "url": self.url,
            "valorTotal": self.amount,
            "email": self.email,
            "descripcionPago": self.description,
            "dispersion": self.lines,
            "status": self.status,
            "createdAt": self.created_at.isoformat(),
            "statusDate": self.status_at.isoformat() if self.status_at else None,
            "webhooks": self.webhooks,
        }
