"""SCI TOTAL's payloads, field for field (camelCase, as in the seed): the only place
besides the client that knows SCI's names. Parsing is lenient about extra fields
(SCI adds them freely) and strict about the ones we use."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from cauce_contracts.payments import PaymentItem, VehicleDebt


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class TokenReply(_Lenient):
    """``/Autenticacion``'s answer: ``{"token", "expiresIn"}`` (or OAuth's names)."""

    token: str = Field(min_length=1, validation_alias=AliasChoices("token", "access_token"))
    expires_in: float | None = Field(
        default=None, validation_alias=AliasChoices("expiresIn", "expires_in")
    )


class DebtRecord(_Lenient):
    """One record of ``/TotalApp/DeudaPlaca``."""

    placa: str
    declaracion: int
    vigencia: int
    avaluo: int
    impto: int
    sancion: int
    interes: int
    saldoPagar: int  # SCI's camelCase names, as received
    total: int
    fechaLim: date
    codiMuniMatr: str | None = None
    codiDeptoMatr: str | None = None
    muniMatr: str | None = None
    deptoMatr: str | None = None
    codiMuniDest: str | None = None
    codiDeptoDest: str | None = None
    muniDest: str | None = None
    deptoDest: str | None = None
    valorMuni: int | None = None
    valorDepto: int | None = None

    @field_validator("fechaLim", mode="before")
    @classmethod
    def _date_of_timestamp(cls, value: Any) -> Any:
        # SCI writes "2025-09-01T00:00:00": a date at local midnight, no zone.
        if isinstance(value, str) and "T" in value:
            return datetime.fromisoformat(value).date()
        return value

    @field_validator(
        "codiMuniMatr", "codiDeptoMatr", "codiMuniDest", "codiDeptoDest", mode="before"
    )
    @classmethod
    def _code_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    def to_contract(self) -> VehicleDebt:
        return VehicleDebt(
            placa=self.placa.strip().upper(),
            declaracion=self.declaracion,
            vigencia=self.vigencia,
            avaluo=self.avaluo,
            impto=self.impto,
            sancion=self.sancion,
            interes=self.interes,
            saldo_pagar=self.saldoPagar,
            total=self.total,
            fecha_lim=self.fechaLim,
            codi_muni_matr=self.codiMuniMatr or None,
            codi_depto_matr=self.codiDeptoMatr or None,
            muni_matr=self.muniMatr or None,
            depto_matr=self.deptoMatr or None,
            codi_muni_dest=self.codiMuniDest or None,
            codi_depto_dest=self.codiDeptoDest or None,
            muni_dest=self.muniDest or None,
            depto_dest=self.deptoDest or None,
            valor_muni=self.valorMuni,
            valor_depto=self.valorDepto,
        )


def transaction_body(
    *,
    email: str,
    amount: int,
    description: str,
    id_parametro: str,
    id_cliente: str,
    items: tuple[PaymentItem, ...],
) -> dict[str, Any]:
    """``/TotalApp/CrearTransaccion``'s request: one dispersion line per declaración."""
    return {
        "email": email,
        "valorTotal": amount,
        "descripcionPago": description,
        "idParametro": id_parametro,
        "idCliente": id_cliente,
        "dispersion": [
            {"referencia": str(item.declaracion), "valor": item.amount, "vigencia": item.vigencia}
            for item in items
        ],
    }


def response_errors(reply: Any) -> tuple[str, ...] | None:
    """SCI's business errors in a reply's ``response``; ``None`` when it reports none.

    Two shapes are seen: ``{"errors": 0, "description": ["SCI: OK", ...]}`` (success:
    ``errors`` a count, ``description`` the log) and ``{"errorCount": n, "errors":
    ["..."]}``. Any non-zero count or non-empty error list is a failure.
    """
    response = reply.get("response") if isinstance(reply, dict) else None
    if not isinstance(response, dict):
        return None
    count = response.get("errorCount")
    errors = response.get("errors")
    error_list = [str(e) for e in errors] if isinstance(errors, list) else []
    failed = (
        (isinstance(count, int) and count > 0)
        or (isinstance(errors, int) and not isinstance(errors, bool) and errors != 0)
        or bool(error_list)
    )
    if not failed:
        return None
    description = response.get("description")
    texts = error_list or ([str(d) for d in description] if isinstance(description, list) else [])
    return tuple(texts) or ("SCI reported an error without a description",)


class TransactionReply(_Lenient):
    """``/TotalApp/CrearTransaccion``'s answer when it worked."""

    transactionId: str = Field(min_length=1)
    url: str = Field(min_length=10)
    paymentId: str = Field(min_length=1)
    sciPaymentId: int
    sciTransactionId: int
    paymentReference: str = Field(min_length=1)

    @field_validator("transactionId", "paymentId", "paymentReference", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value
