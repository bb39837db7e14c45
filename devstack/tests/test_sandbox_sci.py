"""The SCI TOTAL fake: login and token expiry, debts per plate, transactions, the
payment page and the signed status webhook, faults."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from cauce_devstack.sandbox.app import create_app
from cauce_devstack.sandbox.settings import (
    DEV_SCI_PASSWORD,
    DEV_SCI_USERNAME,
    DEV_SCI_WEBHOOK_SECRET,
    SandboxSettings,
)
from cauce_devstack.testing import serving

DEUDA = "/sci/TotalApp/DeudaPlaca/1"


@dataclass
class Receiver:
    url: str = ""
    answer: int = 200
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    state = Receiver()
    app = FastAPI()

    @app.post("/webhooks/sci")
    async def webhook(request: Request) -> JSONResponse:
        state.received.append((dict(request.headers), await request.body()))
        return JSONResponse({"ok": state.answer < 400}, status_code=state.answer)

    async with serving(app) as url:
        state.url = url
        yield state


def client_for(settings: SandboxSettings) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(settings))
    return httpx.AsyncClient(transport=transport, base_url="http://sandbox")


@pytest.fixture
async def sandbox(receiver: Receiver) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(SandboxSettings(gateway_url=receiver.url)) as client:
        yield client


async def login(client: httpx.AsyncClient) -> dict[str, str]:
    response = await client.post(
        "/sci/Autenticacion", data={"Username": DEV_SCI_USERNAME, "Password": DEV_SCI_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def transaction(**overrides: Any) -> dict[str, Any]:
    return {
        "email": "ana@example.com",
        "valorTotal": 954688,
        "descripcionPago": "Impuesto vehicular HHO137 vigencia 2025",
        "idParametro": "1",
        "idCliente": "127",
        "dispersion": [{"referencia": "108818889", "valor": 954688, "vigencia": 2025}],
    } | overrides


async def test_login_gives_an_expiring_token_and_hides_the_password(
    sandbox: httpx.AsyncClient,
) -> None:
    response = await sandbox.post(
        "/sci/Autenticacion", data={"Username": DEV_SCI_USERNAME, "Password": DEV_SCI_PASSWORD}
    )
    body = response.json()
    assert body["expiresIn"] == 3600 and len(body["token"]) > 20
    outbox = (await sandbox.get("/sandbox/outbox", params={"provider": "sci"})).json()
    assert [entry["kind"] for entry in outbox] == ["login"]
    assert DEV_SCI_PASSWORD not in json.dumps(outbox)


@pytest.mark.parametrize("password", ["wrong", ""])
async def test_wrong_credentials_are_refused(sandbox: httpx.AsyncClient, password: str) -> None:
    response = await sandbox.post(
        "/sci/Autenticacion", data={"Username": DEV_SCI_USERNAME, "Password": password}
    )
    assert response.status_code == 401
    assert "token" not in response.json()


async def test_debts_need_a_live_token(sandbox: httpx.AsyncClient) -> None:
    assert (await sandbox.post(DEUDA, json={"placa": "HHO137"})).status_code == 401
    bogus = {"Authorization": "Bearer not-a-token"}
    assert (await sandbox.post(DEUDA, json={"placa": "HHO137"}, headers=bogus)).status_code == 401
    headers = await login(sandbox)
    assert (await sandbox.post(DEUDA, json={"placa": "HHO137"}, headers=headers)).status_code == 200
    assert (await sandbox.post("/sandbox/sci/tokens/expire")).json() == {"expired": 1}
    assert (await sandbox.post(DEUDA, json={"placa": "HHO137"}, headers=headers)).status_code == 401


async def test_a_zero_ttl_issues_dead_tokens(receiver: Receiver) -> None:
    async with client_for(SandboxSettings(gateway_url=receiver.url, sci_token_ttl_s=0)) as client:
        headers = await login(client)
        response = await client.post(DEUDA, json={"placa": "HHO137"}, headers=headers)
    assert response.status_code == 401


async def test_debts_per_plate(sandbox: httpx.AsyncClient) -> None:
    headers = await login(sandbox)

    async def debts(placa: str) -> httpx.Response:
        return await sandbox.post(DEUDA, json={"placa": placa}, headers=headers)

    (hho,) = (await debts("HHO137")).json()
    assert hho["declaracion"] == 108818889 and hho["vigencia"] == 2025
    assert (hho["impto"], hho["sancion"], hho["interes"], hho["saldoPagar"]) == (
        737000,
        184000,
        0,
        921000,
    )
    assert hho["total"] == 954688 and hho["fechaLim"] == "2025-09-01T00:00:00"
    several = (await debts("abc 123")).json()
    assert [d["vigencia"] for d in several] == [2023, 2024, 2025]
    assert len({(d["impto"], d["sancion"], d["interes"]) for d in several}) == 3
    assert all(d["saldoPagar"] == d["impto"] + d["sancion"] + d["interes"] for d in several)
    assert (await debts("XYZ987")).json() == []
    assert (await debts("ERR500")).status_code == 500
    generated = (await debts("QWE456")).json()
    assert generated == (await debts("QWE456")).json() and len(generated) == 1
    assert (await debts("no!")).status_code == 400
    wrong_parametro = await sandbox.post(
        "/sci/TotalApp/DeudaPlaca/99", json={"placa": "HHO137"}, headers=headers
    )
    assert wrong_parametro.status_code == 404


async def test_create_transaction_answers_the_seed_shape(sandbox: httpx.AsyncClient) -> None:
    headers = await login(sandbox)
    response = await sandbox.post(
        "/sci/TotalApp/CrearTransaccion", json=transaction(), headers=headers
    )
    body = response.json()
    assert body["transactionId"] == "40037" and body["paymentId"] == "40037"
    assert body["paymentReference"] == "127-196629"
    assert isinstance(body["sciPaymentId"], int) and isinstance(body["sciTransactionId"], int)
    assert body["url"] == "http://sandbox/sci/pay/40037"
    assert body["response"]["errors"] == 0
    listed = (await sandbox.get("/sci/transactions")).json()
    assert [(t["transactionId"], t["status"]) for t in listed] == [("40037", "PENDIENTE")]
    page = await sandbox.get("/sci/pay/40037")
    assert page.status_code == 200 and "127-196629" in page.text and "954.688" in page.text


async def test_business_errors_create_nothing(sandbox: httpx.AsyncClient) -> None:
    headers = await login(sandbox)
    response = await sandbox.post(
        "/sci/TotalApp/CrearTransaccion", json=transaction(valorTotal=1000), headers=headers
    )
    assert response.status_code == 200
    assert response.json()["response"]["errorCount"] == 1
    assert "dispersión" in response.json()["response"]["errors"][0]
    assert (await sandbox.get("/sci/transactions")).json() == []
    invalid = await sandbox.post(
        "/sci/TotalApp/CrearTransaccion", json=transaction(email="nope"), headers=headers
    )
    assert invalid.status_code == 400


async def test_paying_fires_a_signed_webhook(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    headers = await login(sandbox)
    await sandbox.post("/sci/TotalApp/CrearTransaccion", json=transaction(), headers=headers)
    paid = await sandbox.post("/sci/pay/40037")
    assert paid.status_code == 200
    assert paid.json()["status"] == "APROBADA"
    assert paid.json()["webhook"]["accepted"] is True
    ((sent_headers, raw),) = receiver.received
    body = json.loads(raw)
    assert body["transactionId"] == "40037" and body["status"] == "APROBADA"
    assert body["paymentReference"] == "127-196629" and body["amount"] == 954688
    assert body["statusDate"].endswith("Z")
    parts = dict(part.split("=", 1) for part in sent_headers["x-sci-signature"].split(","))
    expected = hmac.new(
        DEV_SCI_WEBHOOK_SECRET.encode(), f"{parts['t']}.".encode() + raw, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)
    # Paid once: paying again is refused; the declaración cannot be paid in a new one.
    assert (await sandbox.post("/sci/pay/40037")).status_code == 409
    again = await sandbox.post(
        "/sci/TotalApp/CrearTransaccion", json=transaction(), headers=headers
    )
    assert again.json()["response"]["errorCount"] == 1
    assert "ya se encuentra pagada" in again.json()["response"]["errors"][0]


async def test_rejection_then_payment_and_a_refused_webhook_is_reported(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    headers = await login(sandbox)
    await sandbox.post("/sci/TotalApp/CrearTransaccion", json=transaction(), headers=headers)
    rejected = await sandbox.post("/sci/pay/40037", json={"status": "RECHAZADA"})
    assert rejected.json()["status"] == "RECHAZADA"
    receiver.answer = 401
    paid = await sandbox.post(
        "/sci/pay/40037", data={"status": "APROBADA"}, headers={"Accept": "text/html"}
    )
    assert paid.status_code == 200 and "text/html" in paid.headers["content-type"]
    assert "no recibió" in paid.text
    statuses = [json.loads(raw)["status"] for _, raw in receiver.received]
    assert statuses == ["RECHAZADA", "APROBADA"]
    (listed,) = (await sandbox.get("/sci/transactions")).json()
    assert [w["accepted"] for w in listed["webhooks"]] == [True, False]


async def test_faults_on_business_calls(sandbox: httpx.AsyncClient) -> None:
    headers = await login(sandbox)
    armed = await sandbox.post(
        "/sandbox/faults", json={"target": "sci", "kind": "5xx", "status": 503, "count": 2}
    )
    assert armed.status_code == 201
    await sandbox.post("/sandbox/faults", json={"target": "sci", "kind": "token_expired"})
    codes = [
        (await sandbox.post(DEUDA, json={"placa": "HHO137"}, headers=headers)).status_code
        for _ in range(4)
    ]
    assert codes == [503, 503, 401, 200]
    # Graph faults stay with the Graph fake.
    await sandbox.post("/sandbox/faults", json={"kind": "5xx"})
    ok = await sandbox.post(DEUDA, json={"placa": "HHO137"}, headers=headers)
    assert ok.status_code == 200
