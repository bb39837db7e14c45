"""``refusal`` faults: the fake Graph API answers Meta's per-customer refusals (131049,
131056...) for the next sends, optionally to one customer only."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from cauce_devstack.sandbox.app import create_app, create_served_app
from cauce_devstack.sandbox.settings import SandboxSettings

PNID = "111111111111111"
OTHER_PNID = "222222222222222"
TOKEN = "token-for-111"
OTHER_TOKEN = "token-for-222"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
OTHER_AUTH = {"Authorization": f"Bearer {OTHER_TOKEN}"}
ANA = "573001111111"
LUIS = "573002222222"


@pytest.fixture(params=[create_app, create_served_app], ids=["framework", "served"])
async def sandbox(request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    """The sandbox as tests build it, and as ``python -m cauce_devstack.sandbox`` serves
    it (sends answered before the framework): both must answer alike."""
    settings = SandboxSettings(
        graph_tokens={PNID: SecretStr(TOKEN), OTHER_PNID: SecretStr(OTHER_TOKEN)},
        service_window_enforced=False,
        status_callbacks_enabled=False,
    )
    transport = httpx.ASGITransport(app=request.param(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        yield client


def promo(to: str, name: str = "bienvenida") -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "to": to,
        "type": "template",
        "template": {
            "name": name,
            "language": {"code": "es"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}],
        },
    }


async def send(
    client: httpx.AsyncClient, to: str, pnid: str = PNID, **kwargs: Any
) -> httpx.Response:
    auth = AUTH if pnid == PNID else OTHER_AUTH
    return await client.post(
        f"/graph/v23.0/{pnid}/messages", json=kwargs.get("json", promo(to)), headers=auth
    )


async def arm(client: httpx.AsyncClient, **spec: Any) -> dict[str, Any]:
    response = await client.post("/sandbox/faults", json={"kind": "refusal", **spec})
    assert response.status_code == 201, response.text
    armed: dict[str, Any] = response.json()
    return armed


async def test_131049_for_one_customer_with_metas_exact_body(sandbox: httpx.AsyncClient) -> None:
    armed = await arm(sandbox, code=131049, recipient="+57 300 111 1111", count=2)
    assert armed["recipient"] == ANA
    assert (await send(sandbox, LUIS)).status_code == 200
    for _ in range(2):
        refused = await send(sandbox, ANA)
        assert refused.status_code == 400
        error = refused.json()["error"]
        assert set(error) == {"message", "type", "code", "error_data", "fbtrace_id"}
        assert error["message"] == (
            "(#131049) This message was not delivered to maintain healthy ecosystem engagement."
        )
        assert (error["type"], error["code"]) == ("OAuthException", 131049)
        assert error["error_data"] == {
            "messaging_product": "whatsapp",
            "details": "In order to maintain a healthy ecosystem engagement, the message "
            "failed to be delivered.",
        }
    assert (await send(sandbox, ANA)).status_code == 200
    assert (await sandbox.get("/sandbox/faults")).json() == []
    refused_entries = [
        e
        for e in (await sandbox.get("/sandbox/outbox", params={"include_refused": True})).json()
        if e["kind"] == "refused"
    ]
    assert [(e["to"], e["status"], e["error"]["error"]["code"]) for e in refused_entries] == [
        (ANA, 400, 131049),
        (ANA, 400, 131049),
    ]


async def test_131056_for_anyone_on_one_number(sandbox: httpx.AsyncClient) -> None:
    await arm(sandbox, code=131056, phone_number_id=OTHER_PNID)
    assert (await send(sandbox, ANA)).status_code == 200  # another number
    refused = await send(sandbox, LUIS, OTHER_PNID)
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["message"] == "(#131056) (Business Account, Consumer Account) pair rate limit hit"
    assert error["error_data"]["details"] == (
        "Message failed to send because there were too many messages sent from this phone "
        "number to the same phone number in a short period of time."
    )
    assert (await send(sandbox, LUIS, OTHER_PNID)).status_code == 200


async def test_earlier_refusals_and_reads_leave_the_fault_armed(
    sandbox: httpx.AsyncClient,
) -> None:
    await arm(sandbox, code=131049, recipient=ANA)
    unknown = await send(sandbox, ANA, json=promo(ANA, "no_existe"))
    assert unknown.json()["error"]["code"] == 132001  # Meta's own checks come first
    read = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.X"}
    assert (await send(sandbox, ANA, json=read)).status_code == 200
    await sandbox.post("/sandbox/faults", json={"kind": "429"})
    assert (await send(sandbox, ANA)).status_code == 429  # the transport fault first
    assert (await send(sandbox, ANA)).json()["error"]["code"] == 131049
    assert (await send(sandbox, ANA)).status_code == 200


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "refusal"},
        {"kind": "refusal", "code": 131047},
        {"kind": "refusal", "code": 131049, "target": "sci"},
        {"kind": "429", "code": 131049},
        {"kind": "latency", "recipient": ANA},
        {"kind": "refusal", "code": 131049, "recipient": "not a phone"},
    ],
)
async def test_bad_refusal_faults_are_refused(
    sandbox: httpx.AsyncClient, spec: dict[str, Any]
) -> None:
    assert (await sandbox.post("/sandbox/faults", json=spec)).status_code == 422
