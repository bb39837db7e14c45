"""Fake SCI TOTAL (``/sci``): authentication, debts by plate, payment transactions,
a payment page, and the signed status webhook to the gateway.

API (field names as the real one, see the seed ``vehicle-debt-bot-whatsapp-sci.md``):

- ``POST /sci/Autenticacion``, form ``Username``, ``Password`` -> ``{"token",
  "expiresIn"}`` (seconds, ``SandboxSettings.sci_token_ttl_s``); bad credentials -> 401
  ``{"message": ...}``.
- ``POST /sci/TotalApp/DeudaPlaca/{idParametro}`` (Bearer), JSON ``{"placa"}`` -> a list
  of debt records (camelCase, as the seed's payload); ``[]`` when nothing is owed.
- ``POST /sci/TotalApp/CrearTransaccion`` (Bearer), JSON ``email, valorTotal,
  descripcionPago, idParametro, idCliente, dispersion[{referencia, valor, vigencia}]``
  -> ``transactionId, url, paymentId, sciPaymentId, sciTransactionId,
  paymentReference, response{errors, description}``. Business errors answer 200 with
  ``response{errorCount, errors[...]}`` and no transaction: the dispersion does not add
  up to ``valorTotal``, or a declaración is already paid by an approved transaction.
- Missing, unknown or expired token -> 401. Unknown ``idParametro`` -> 404.
- ``GET /sci/pay/{transactionId}``: a small HTML page with a "Pagar" button;
  ``POST /sci/pay/{transactionId}`` pays it (form or JSON ``status`` = ``APROBADA``,
  the default, or ``RECHAZADA``), then posts the status webhook to
  ``{gateway_url}/webhooks/sci`` and answers whether the gateway accepted it (JSON, or
  HTML when the browser asked for it). An approved transaction cannot be paid again
  (409); a rejected one can be retried.
- ``GET /sci/transactions``: every transaction (sandbox-only, for tests and the demo);
  ``POST /sandbox/sci/tokens/expire`` expires every token issued so far.

Status webhook (what the gateway verifies)::

    POST {gateway_url}/webhooks/sci
    X-SCI-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}." + raw body)>
    {"transactionId": "40037", "status": "APROBADA", "paymentReference": "127-196629",
     "amount": 954688, "statusDate": "2025-08-01T15:04:05Z"}

with ``secret`` = ``SandboxSettings.sci_webhook_secret``.

Debts by plate: ``HHO137`` exactly as in the seed (2025, total 954 688); ``ABC123`` a
car owing 2023, 2024 and 2025; ``KJU45F`` a motorcycle owing 2025; ``XYZ987`` owes
nothing (``[]``); ``ERR500`` answers 500. Any other plate gets one deterministic
generated 2025 debt (amounts derived from a hash of the plate), so a demo can type any
plate and always see the same numbers.

Faults (``POST /sandbox/faults`` with ``target: "sci"``) apply to the two
``/sci/TotalApp/...`` calls, before the token check: ``latency``, ``429``, ``5xx``,
``token_expired`` (401, whatever token was sent) and ``drop``. Authentication and the
payment page are not affected, so "SCI down twice" means two failed business calls.

Accepted calls are recorded in the outbox with ``provider="sci"`` (logins without the
password).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import itertools
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qs

import httpx
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from cauce_devstack.sandbox.faults import Fault, get_faults
from cauce_devstack.sandbox.gateway_client import GatewayClient
from cauce_devstack.sandbox.outbox import get_outbox
from cauce_devstack.sandbox.settings import SandboxSettings

WEBHOOK_PATH = "/webhooks/sci"
SIGNATURE_HEADER = "X-SCI-Signature"
PayStatus = Literal["APROBADA", "RECHAZADA"]


def _debt(
    placa: str,
    declaracion: int,
    vigencia: int,
    avaluo: int,
    impto: int,
    sancion: int,
    interes: int,
    fecha_lim: str,
    *,
    muni: tuple[str, str, str, str] = ("307", "68", "GIRON", "SANTANDER"),
    dest: tuple[str, str, str, str] = ("655", "68", "SABANA DE TORRES", "SANTANDER"),
    total: int | None = None,
) -> dict[str, Any]:
    """One debt record in SCI's shape. ``saldoPagar`` = impto + sanción + interés;
    ``total`` adds SCI's collection charges unless given."""
    saldo = impto + sancion + interes
    valor_muni = round(impto * 0.2 + sancion * 0.2)
    return {
        "placa": placa,
        "declaracion": declaracion,
        "vigencia": vigencia,
        "codiMuniMatr": muni[0],
        "codiDeptoMatr": muni[1],
        "muniMatr": muni[2],
        "deptoMatr": muni[3],
        "avaluo": avaluo,
        "impto": impto,
        "sancion": sancion,
        "interes": interes,
        "saldoPagar": saldo,
        "total": total if total is not None else saldo + round(saldo * 0.0366),
        "codiMuniDest": dest[0],
        "codiDeptoDest": dest[1],
        "muniDest": dest[2],
        "deptoDest": dest[3],
        "valorMuni": valor_muni,
        "valorDepto": saldo - valor_muni,
        "fechaLim": fecha_lim,
    }


#: The seed's record, verbatim.
HHO137_2025: dict[str, Any] = {
    "placa": "HHO137",
    "declaracion": 108818889,
    "vigencia": 2025,
    "codiMuniMatr": "307",
    "codiDeptoMatr": "68",
    "muniMatr": "GIRON",
    "deptoMatr": "SANTANDER",
    "avaluo": 49116000,
    "impto": 737000,
    "sancion": 184000,
    "interes": 0,
    "saldoPagar": 921000,
    "total": 954688,
    "codiMuniDest": "655",
    "codiDeptoDest": "68",
    "muniDest": "SABANA DE TORRES",
    "deptoDest": "SANTANDER",
    "valorMuni": 184200,
    "valorDepto": 736800,
    "fechaLim": "2025-09-01T00:00:00",
}

_BUCARAMANGA = ("001", "68", "BUCARAMANGA", "SANTANDER")

#: Plate -> its debt records (``[]``: owes nothing).
KNOWN_DEBTS: dict[str, list[dict[str, Any]]] = {
    "HHO137": [HHO137_2025],
    "ABC123": [
        _debt(
            "ABC123",
            98811201,
            2023,
            38500000,
            577000,
            288000,
            241000,
            "2023-07-31T00:00:00",
            muni=_BUCARAMANGA,
            dest=_BUCARAMANGA,
        ),
        _debt(
            "ABC123",
            103922415,
            2024,
            36900000,
            553000,
            276000,
            98000,
            "2024-07-31T00:00:00",
            muni=_BUCARAMANGA,
            dest=_BUCARAMANGA,
        ),
        _debt(
            "ABC123",
            108822730,
            2025,
            35100000,
            526000,
            0,
            0,
            "2025-09-01T00:00:00",
            muni=_BUCARAMANGA,
            dest=_BUCARAMANGA,
        ),
    ],
    "KJU45F": [
        _debt(
            "KJU45F",
            108830512,
            2025,
            7200000,
            108000,
            0,
            0,
            "2025-09-01T00:00:00",
            muni=_BUCARAMANGA,
            dest=_BUCARAMANGA,
        ),
    ],
    "XYZ987": [],
}
#: Plates whose lookup fails with this HTTP status.
FAILING_PLATES: dict[str, int] = {"ERR500": 500}

_PLATE = re.compile(r"^[A-Z0-9]{5,8}$")


def debts_for(placa: str) -> list[dict[str, Any]]:
    """The debt records of ``placa``: a known plate's, else one generated, stable debt."""
    if placa in KNOWN_DEBTS:
        return KNOWN_DEBTS[placa]
    digest = hashlib.sha256(placa.encode()).digest()
    avaluo = 20_000_000 + int.from_bytes(digest[:3], "big") % 60_000 * 1000
    impto = round(avaluo * 0.015 / 1000) * 1000
    return [
        _debt(
            placa,
            110_000_000 + int.from_bytes(digest[3:6], "big") % 9_000_000,
            2025,
            avaluo,
            impto,
            0,
            0,
            "2025-09-01T00:00:00",
        )
    ]


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


def sign_webhook(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The ``X-SCI-Signature`` header value for ``body``."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


class SciState:
    """Tokens and transactions of one sandbox app, and the webhook client."""

    def __init__(self, settings: SandboxSettings, gateway: GatewayClient) -> None:
        self.settings = settings
        self.gateway = gateway
        #: token -> expiry (unix time)
        self.tokens: dict[str, float] = {}
        self.transactions: dict[str, Transaction] = {}
        self._first_id = settings.sci_first_transaction_id
        self._ids = itertools.count(self._first_id)
        self._lock = asyncio.Lock()

    def issue(self) -> tuple[str, int]:
        token = secrets.token_urlsafe(32)
        ttl = self.settings.sci_token_ttl_s
        self.tokens[token] = time.time() + ttl
        return token, int(ttl)

    def valid(self, token: str | None) -> bool:
        expiry = self.tokens.get(token or "")
        return expiry is not None and expiry > time.time()

    def expire_all(self) -> int:
        now = time.time()
        live = [token for token, expiry in self.tokens.items() if expiry > now]
        for token in live:
            self.tokens[token] = now
        return len(live)

    def paid_declarations(self) -> set[str]:
        return {
            line["referencia"]
            for tx in self.transactions.values()
            if tx.status == "APROBADA"
            for line in tx.lines
        }

    def create(self, body: TransactionRequest, base_url: str) -> Transaction:
        n = next(self._ids)
        offset = n - self._first_id
        transaction_id = str(n)
        tx = Transaction(
            transaction_id=transaction_id,
            payment_id=transaction_id,
            sci_payment_id=5562812 + offset,
            sci_transaction_id=20566 + offset,
            payment_reference=f"{body.idCliente}-{196629 + offset}",
            url=f"{base_url}/sci/pay/{transaction_id}",
            amount=body.valorTotal,
            email=body.email,
            description=body.descripcionPago,
            lines=[line.model_dump() for line in body.dispersion],
        )
        self.transactions[transaction_id] = tx
        return tx

    async def notify(self, tx: Transaction) -> dict[str, Any]:
        """Post ``tx``'s status to the gateway; what happened, for the payer's answer."""
        status_at = tx.status_at or datetime.now(UTC)
        body = json.dumps(
            {
                "transactionId": tx.transaction_id,
                "status": tx.status,
                "paymentReference": tx.payment_reference,
                "amount": tx.amount,
                "statusDate": status_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
            separators=(",", ":"),
        ).encode()
        secret = self.settings.sci_webhook_secret.get_secret_value()
        url = f"{self.settings.gateway_url.rstrip('/')}{WEBHOOK_PATH}"
        outcome: dict[str, Any] = {"url": url, "accepted": False, "status_code": None}
        try:
            response = await self.gateway.http.post(
                url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    SIGNATURE_HEADER: sign_webhook(secret, body),
                },
            )
        except httpx.HTTPError as exc:
            outcome["error"] = f"{type(exc).__name__}: {exc}"
        else:
            outcome["status_code"] = response.status_code
            outcome["accepted"] = response.is_success
            if not response.is_success:
                outcome["error"] = response.text[:500]
        tx.webhooks.append({**outcome, "status": tx.status})
        return outcome


def get_state(request: Request) -> SciState:
    state: SciState = request.app.state.sci
    return state


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"message": message, **extra}, status_code=status)


def _unauthorized() -> JSONResponse:
    return JSONResponse(
        {"message": "Authorization has been denied for this request."},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


_BEARER = re.compile(r"^\s*bearer\s+(\S+)\s*$", re.IGNORECASE)


def _bearer(request: Request) -> str | None:
    match = _BEARER.match(request.headers.get("authorization", ""))
    return match.group(1) if match else None


async def _fault_response(fault: Fault, settings: SandboxSettings) -> Response | None:
    """The answer an armed fault stands for (``None``: latency only, carry on)."""
    if fault.kind == "latency":
        await asyncio.sleep(fault.latency_ms / 1000)
        return None
    if fault.kind == "429":
        return JSONResponse(
            {"message": "Too many requests"},
            status_code=429,
            headers={"Retry-After": str(fault.retry_after)},
        )
    if fault.kind == "5xx":
        return _error(fault.status, "An error has occurred.")
    if fault.kind == "token_expired":
        return _unauthorized()
    await asyncio.sleep(settings.drop_hold_s)
    return Response(status_code=504)


async def _guard(request: Request, id_parametro: str) -> Response | None:
    """Faults, then the token, then the idParametro: the refusal, if any."""
    settings: SandboxSettings = request.app.state.settings
    # Read the body first: a slow SCI still does the work, it only answers late (so a
    # client timing out on a latency fault is the real "created but never told" case).
    await request.body()
    fault = get_faults(request).take("sci")
    if fault is not None:
        refusal = await _fault_response(fault, settings)
        if refusal is not None:
            return refusal
    if not get_state(request).valid(_bearer(request)):
        return _unauthorized()
    if id_parametro != settings.sci_id_parametro:
        return _error(404, f"idParametro {id_parametro} no existe")
    return None


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        return None


def _validation_message(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])


router = APIRouter(prefix="/sci", tags=["sci"])
sandbox_router = APIRouter(prefix="/sandbox/sci", tags=["sandbox"])


@router.post("/Autenticacion")
async def authenticate(request: Request) -> Response:
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    username = (form.get("Username") or [""])[0]
    password = (form.get("Password") or [""])[0]
    settings: SandboxSettings = request.app.state.settings
    if not (
        hmac.compare_digest(username.encode(), settings.sci_username.encode())
        and hmac.compare_digest(
            password.encode(), settings.sci_password.get_secret_value().encode()
        )
    ):
        return _error(401, "Usuario o contraseña incorrectos")
    token, ttl = get_state(request).issue()
    get_outbox(request).record(
        provider="sci",
        kind="login",
        phone_number_id="",
        type="login",
        message_id="",
        payload={"Username": username},
    )
    return JSONResponse({"token": token, "expiresIn": ttl})


@router.post("/TotalApp/DeudaPlaca/{id_parametro}")
async def debt_by_plate(id_parametro: str, request: Request) -> Response:
    refusal = await _guard(request, id_parametro)
    if refusal is not None:
        return refusal
    raw = await _json(request)
    try:
        query = DebtQuery.model_validate(raw)
    except ValidationError as error:
        return _error(400, _validation_message(error))
    placa = re.sub(r"[\s-]", "", query.placa).upper()
    if not _PLATE.match(placa):
        return _error(400, f"placa {query.placa!r} no es válida")
    if placa in FAILING_PLATES:
        return _error(FAILING_PLATES[placa], "An error has occurred.")
    debts = debts_for(placa)
    get_outbox(request).record(
        provider="sci",
        kind="debt_lookup",
        phone_number_id=id_parametro,
        type="debt_lookup",
        message_id=placa,
        payload=raw,
    )
    return JSONResponse(debts)


def _business_errors(state: SciState, body: TransactionRequest) -> list[str]:
    errors = []
    total = sum(line.valor for line in body.dispersion)
    if total != body.valorTotal:
        errors.append(f"SCI: la dispersión suma {total} y el valor total es {body.valorTotal}")
    paid = state.paid_declarations()
    errors += [
        f"SCI: la declaración {line.referencia} ya se encuentra pagada"
        for line in body.dispersion
        if line.referencia in paid
    ]
    return errors


@router.post("/TotalApp/CrearTransaccion")
async def create_transaction(request: Request) -> Response:
    settings: SandboxSettings = request.app.state.settings
    refusal = await _guard(request, settings.sci_id_parametro)
    if refusal is not None:
        return refusal
    raw = await _json(request)
    try:
        body = TransactionRequest.model_validate(raw)
    except ValidationError as error:
        return _error(400, _validation_message(error))
    if str(body.idParametro) != settings.sci_id_parametro:
        return _error(404, f"idParametro {body.idParametro} no existe")
    state = get_state(request)
    async with state._lock:
        errors = _business_errors(state, body)
        tx = None if errors else state.create(body, _public_base(request))
    get_outbox(request).record(
        provider="sci",
        kind="transaction",
        phone_number_id=str(body.idParametro),
        type="transaction",
        message_id=tx.transaction_id if tx else "",
        payload=raw,
    )
    if tx is None:
        return JSONResponse({"response": {"errorCount": len(errors), "errors": errors}})
    return JSONResponse(
        {
            "transactionId": tx.transaction_id,
            "url": tx.url,
            "paymentId": tx.payment_id,
            "sciPaymentId": tx.sci_payment_id,
            "sciTransactionId": tx.sci_transaction_id,
            "paymentReference": tx.payment_reference,
            "response": {
                "errors": 0,
                "description": ["SCI: OK", "Pasarela:  - OK", "Dispersion: @OK"],
            },
        }
    )


def _public_base(request: Request) -> str:
    configured: str | None = request.app.state.settings.sci_public_url
    return (configured or str(request.base_url)).rstrip("/")


_PAGE = """<!doctype html>
<html lang="es"><head><meta charset="utf-8"><title>Pago {reference}</title></head>
<body>
<h1>Pago de impuesto vehicular</h1>
<p>Referencia: <b>{reference}</b></p>
<p>{description}</p>
<p>Valor: <b>$ {amount}</b></p>
<p>Estado: <b>{status}</b></p>
{form}
</body></html>
"""


def _page(tx: Transaction, note: str = "") -> str:
    form = (
        ""
        if tx.status == "APROBADA"
        else f'<form method="post" action="/sci/pay/{html.escape(tx.transaction_id)}">'
        '<button type="submit" name="status" value="APROBADA">Pagar</button> '
        '<button type="submit" name="status" value="RECHAZADA">Simular rechazo</button></form>'
    )
    return _PAGE.format(
        reference=html.escape(tx.payment_reference),
        description=html.escape(tx.description),
        amount=f"{tx.amount:,}".replace(",", "."),
        status=html.escape(tx.status),
        form=form + (f"<p>{html.escape(note)}</p>" if note else ""),
    )


@router.get("/pay/{transaction_id}", response_class=HTMLResponse)
async def payment_page(transaction_id: str, request: Request) -> Response:
    tx = get_state(request).transactions.get(transaction_id)
    if tx is None:
        return HTMLResponse("<h1>Transacción no encontrada</h1>", status_code=404)
    return HTMLResponse(_page(tx))


class PayRequest(_Strict):
    status: PayStatus = "APROBADA"


async def _pay_request(request: Request) -> PayRequest:
    raw = await request.body()
    if not raw.strip():
        return PayRequest()
    if "json" in request.headers.get("content-type", ""):
        return PayRequest.model_validate_json(raw)
    form = parse_qs(raw.decode("utf-8", "replace"))
    return PayRequest.model_validate({k: v[0] for k, v in form.items()})


@router.post("/pay/{transaction_id}")
async def pay(transaction_id: str, request: Request) -> Response:
    """Pay (or reject) the transaction, then fire the signed status webhook."""
    state = get_state(request)
    wants_html = "text/html" in request.headers.get("accept", "")
    try:
        body = await _pay_request(request)
    except ValidationError as error:
        return _error(400, _validation_message(error))
    async with state._lock:
        tx = state.transactions.get(transaction_id)
        if tx is None:
            return _error(404, f"transacción {transaction_id} no existe")
        if tx.status == "APROBADA":
            return _error(409, "la transacción ya fue pagada", estado=tx.status)
        tx.status = body.status
        tx.status_at = datetime.now(UTC)
    get_outbox(request).record(
        provider="sci",
        kind="payment",
        phone_number_id="",
        type="payment",
        message_id=transaction_id,
        payload={"status": body.status},
    )
    webhook = await state.notify(tx)
    if wants_html:
        note = "Pago notificado." if webhook["accepted"] else "El comercio no recibió el aviso."
        return HTMLResponse(_page(tx, note))
    return JSONResponse(
        {"transactionId": tx.transaction_id, "status": tx.status, "webhook": webhook}
    )


@router.get("/transactions")
async def list_transactions(request: Request) -> list[dict[str, Any]]:
    """Every transaction created so far, oldest first (sandbox only)."""
    return [tx.view() for tx in get_state(request).transactions.values()]


@sandbox_router.post("/tokens/expire")
async def expire_tokens(request: Request) -> dict[str, int]:
    """Expire every SCI token issued so far: the next business call answers 401."""
    return {"expired": get_state(request).expire_all()}


def install(app: FastAPI) -> None:
    """Mount the fake on ``app`` (whose ``state.settings``, outbox and faults exist)."""
    state = SciState(app.state.settings, app.state.gateway_client)
    app.state.sci = state
    app.include_router(router)
    app.include_router(sandbox_router)


__all__ = ["KNOWN_DEBTS", "SciState", "debts_for", "install", "sign_webhook"]
