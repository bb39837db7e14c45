"""SCI TOTAL's API as the payments service calls it: login, debts by plate, payment
transactions; plus the sandbox-only views tests and the demo read."""

from __future__ import annotations

import hmac
import json
import re
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from cauce_devstack.sandbox.bootstrap import SandboxDep
from cauce_devstack.sandbox.sci.errors import error, validation_message
from cauce_devstack.sandbox.sci.guard import guard
from cauce_devstack.sandbox.sci.models import DebtQuery, TransactionRequest
from cauce_devstack.sandbox.sci.seed_data import FAILING_PLATES, debts_for
from cauce_devstack.sandbox.sci.state import SciState

_PLATE = re.compile(r"^[A-Z0-9]{5,8}$")

router = APIRouter(prefix="/sci", tags=["sci"])
sandbox_router = APIRouter(prefix="/sandbox/sci", tags=["sandbox"])


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        return None


@router.post("/Autenticacion")
async def authenticate(request: Request, sandbox: SandboxDep) -> Response:
    """Form ``Username``, ``Password`` -> ``{"token", "expiresIn"}`` (seconds,
    ``CAUCE_SANDBOX_SCI_TOKEN_TTL_S``); bad credentials -> 401 ``{"message"}``. Faults
    do not apply here."""
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    username = (form.get("Username") or [""])[0]
    password = (form.get("Password") or [""])[0]
    settings = sandbox.settings
    if not (
        hmac.compare_digest(username.encode(), settings.sci_username.encode())
        and hmac.compare_digest(
            password.encode(), settings.sci_password.get_secret_value().encode()
        )
    ):
        return error(401, "Usuario o contraseña incorrectos")
    token, ttl = sandbox.sci.issue()
    sandbox.outbox.record(
        provider="sci",
        kind="login",
        phone_number_id="",
        type="login",
        message_id="",
        payload={"Username": username},
    )
    return JSONResponse({"token": token, "expiresIn": ttl})


@router.post("/TotalApp/DeudaPlaca/{id_parametro}")
async def debt_by_plate(id_parametro: str, request: Request, sandbox: SandboxDep) -> Response:
    """Bearer; JSON ``{"placa"}`` -> the plate's debt records (camelCase, SCI's field
    names), ``[]`` when nothing is owed.

    Plates: ``HHO137`` owes 2025 (total 954 688); ``ABC123``, a car, owes 2023, 2024 and
    2025; ``KJU45F``, a motorcycle, owes 2025; ``XYZ987`` owes nothing; ``ERR500``
    answers 500. Any other plate gets one deterministic generated 2025 debt.
    """
    refusal = await guard(request, sandbox, id_parametro)
    if refusal is not None:
        return refusal
    raw = await _json(request)
    try:
        query = DebtQuery.model_validate(raw)
    except ValidationError as invalid:
        return error(400, validation_message(invalid))
    placa = re.sub(r"[\s-]", "", query.placa).upper()
    if not _PLATE.match(placa):
        return error(400, f"placa {query.placa!r} no es válida")
    if placa in FAILING_PLATES:
        return error(FAILING_PLATES[placa], "An error has occurred.")
    debts = debts_for(placa)
    sandbox.outbox.record(
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
async def create_transaction(request: Request, sandbox: SandboxDep) -> Response:
    """Bearer; JSON ``email, valorTotal, descripcionPago, idParametro, idCliente,
    dispersion[{referencia, valor, vigencia}]`` -> ``transactionId, url, paymentId,
    sciPaymentId, sciTransactionId, paymentReference, response{errors, description}``;
    ``url`` is the transaction's payment page.

    Business errors answer 200 with ``response{errorCount, errors[...]}`` and no
    transaction: the dispersion does not add up to ``valorTotal``, or a declaración is
    already paid by an approved transaction.
    """
    settings = sandbox.settings
    refusal = await guard(request, sandbox, settings.sci_id_parametro)
    if refusal is not None:
        return refusal
    raw = await _json(request)
    try:
        body = TransactionRequest.model_validate(raw)
    except ValidationError as invalid:
        return error(400, validation_message(invalid))
    if str(body.idParametro) != settings.sci_id_parametro:
        return error(404, f"idParametro {body.idParametro} no existe")
    state = sandbox.sci
    async with state.lock:
        errors = _business_errors(state, body)
        tx = None if errors else state.create(body, _public_base(request, settings.sci_public_url))
    sandbox.outbox.record(
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


def _public_base(request: Request, configured: str | None) -> str:
    return (configured or str(request.base_url)).rstrip("/")


@router.get("/transactions")
async def list_transactions(sandbox: SandboxDep) -> list[dict[str, Any]]:
    """Every transaction created so far, oldest first (sandbox only)."""
    return [tx.view() for tx in sandbox.sci.transactions.values()]


@sandbox_router.post("/tokens/expire")
async def expire_tokens(sandbox: SandboxDep) -> dict[str, int]:
    """Expire every SCI token issued so far: the next business call answers 401."""
    return {"expired": sandbox.sci.expire_all()}
