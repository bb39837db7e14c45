"""The payment link a customer opens: a small HTML page standing in for SCI's payment
gateway, so a demo or a test can pay (or reject) a transaction and fire the webhook."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import ValidationError

from cauce_devstack.sandbox.bootstrap import SandboxDep
from cauce_devstack.sandbox.sci.errors import error, validation_message
from cauce_devstack.sandbox.sci.models import PayRequest, Transaction
from cauce_devstack.sandbox.sci.status_webhook import notify

router = APIRouter(prefix="/sci", tags=["sci"])

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


def render(tx: Transaction, note: str = "") -> str:
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
async def payment_page(transaction_id: str, sandbox: SandboxDep) -> Response:
    """A small HTML page with a "Pagar" button (and one simulating a rejection)."""
    tx = sandbox.sci.transactions.get(transaction_id)
    if tx is None:
        return HTMLResponse("<h1>Transacción no encontrada</h1>", status_code=404)
    return HTMLResponse(render(tx))


async def _pay_request(request: Request) -> PayRequest:
    raw = await request.body()
    if not raw.strip():
        return PayRequest()
    if "json" in request.headers.get("content-type", ""):
        return PayRequest.model_validate_json(raw)
    form = parse_qs(raw.decode("utf-8", "replace"))
    return PayRequest.model_validate({k: v[0] for k, v in form.items()})


@router.post("/pay/{transaction_id}")
async def pay(transaction_id: str, request: Request, sandbox: SandboxDep) -> Response:
    """Pay (or reject) the transaction, then fire the signed status webhook.

    Form or JSON ``status``: ``APROBADA`` (the default) or ``RECHAZADA``. The status
    webhook goes to ``{gateway_url}/webhooks/sci``; the answer says whether the gateway
    accepted it (JSON, or HTML when the browser asked for it). An approved transaction
    cannot be paid again (409); a rejected one can be retried.
    """
    state = sandbox.sci
    wants_html = "text/html" in request.headers.get("accept", "")
    try:
        body = await _pay_request(request)
    except ValidationError as invalid:
        return error(400, validation_message(invalid))
    async with state.lock:
        tx = state.transactions.get(transaction_id)
        if tx is None:
            return error(404, f"transacción {transaction_id} no existe")
        if tx.status == "APROBADA":
            return error(409, "la transacción ya fue pagada", estado=tx.status)
        tx.status = body.status
        tx.status_at = datetime.now(UTC)
    sandbox.outbox.record(
        provider="sci",
        kind="payment",
        phone_number_id="",
        type="payment",
        message_id=transaction_id,
        payload={"status": body.status},
    )
    webhook = await notify(tx, state.settings, state.gateway)
    if wants_html:
        note = "Pago notificado." if webhook["accepted"] else "El comercio no recibió el aviso."
        return HTMLResponse(render(tx, note))
    return JSONResponse(
        {"transactionId": tx.transaction_id, "status": tx.status, "webhook": webhook}
    )
