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
URL = f"/graph/v22.0/{PNID}/messages"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(params=[create_app, create_served_app], ids=["framework", "served"])
async def sandbox(request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    """The sandbox as tests build it, and as ``python -m cauce_devstack.sandbox`` serves
    it (sends answered before the framework): both must answer alike."""
    settings = SandboxSettings(
        graph_tokens={PNID: SecretStr(TOKEN), OTHER_PNID: SecretStr(OTHER_TOKEN)},
        service_window_enforced=False,  # the window has its own tests
        status_callbacks_enabled=False,
    )
    transport = httpx.ASGITransport(app=request.param(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        yield client


def text(to: str = "573001234567", body: str = "hola") -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": body}}


def buttons(n: int, title: str = "Opción") -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "to": "573001234567",
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": "¿Qué deseas hacer?"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": f"b{i}", "title": f"{title} {i}"}}
                    for i in range(n)
                ]
            },
        },
    }


def assert_meta_error(response: httpx.Response, status: int, code: int) -> dict[str, Any]:
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert error["type"] == "OAuthException"
    assert error["fbtrace_id"]
    assert isinstance(error["message"], str) and error["message"]
    return dict(error)


async def test_valid_send_answers_like_meta_and_lands_in_the_outbox(
    sandbox: httpx.AsyncClient,
) -> None:
    response = await sandbox.post(URL, json=text("+57 300 123 4567"), headers=AUTH)
    assert response.status_code == 200
    body = response.json()
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": "+57 300 123 4567", "wa_id": "573001234567"}]
    (message,) = body["messages"]
    assert message["id"].startswith("wamid.")

    outbox = (await sandbox.get("/sandbox/outbox", params={"to": "573001234567"})).json()
    assert len(outbox) == 1
    assert outbox[0]["message_id"] == message["id"]
    assert outbox[0]["phone_number_id"] == PNID
    assert outbox[0]["payload"] == text("+57 300 123 4567")


async def test_outbox_filters_keep_order_and_can_be_cleared(sandbox: httpx.AsyncClient) -> None:
    other_auth = {"Authorization": f"Bearer {OTHER_TOKEN}"}
    await sandbox.post(URL, json=text(body="uno"), headers=AUTH)
    await sandbox.post(f"/graph/v22.0/{OTHER_PNID}/messages", json=text(), headers=other_auth)
    await sandbox.post(URL, json=text(body="dos"), headers=AUTH)
    mine = (await sandbox.get("/sandbox/outbox", params={"phone_number_id": PNID})).json()
    assert [e["payload"]["text"]["body"] for e in mine] == ["uno", "dos"]
    assert (await sandbox.delete("/sandbox/outbox")).json() == {"deleted": 3}
    assert (await sandbox.get("/sandbox/outbox")).json() == []


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}],
    ids=["missing", "wrong", "not-bearer"],
)
async def test_bad_token_gets_metas_401_envelope(
    sandbox: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await sandbox.post(URL, json=text(), headers=headers)
    error = assert_meta_error(response, 401, 190)
    assert "error_subcode" in error
    assert (await sandbox.get("/sandbox/outbox")).json() == []


async def test_token_of_another_number_cannot_send_for_this_one(sandbox: httpx.AsyncClient) -> None:
    response = await sandbox.post(
        URL, json=text(), headers={"Authorization": f"Bearer {OTHER_TOKEN}"}
    )
    assert assert_meta_error(response, 400, 100)["error_subcode"] == 33


@pytest.mark.parametrize(
    "payload",
    [
        {**text(), "messaging_product": "sms"},
        {k: v for k, v in text().items() if k != "to"},
        {**text(), "to": "not-a-number"},
        {"messaging_product": "whatsapp", "to": "573001234567", "type": "image"},
        {**text(), "type": "carousel"},
        {**text(), "text": {"body": ""}},
        {**text(), "text": {"body": "x", "previewUrl": True}},
        {**text(), "type": "image", "image": {"id": "1", "link": "https://x/y.jpg"}},
        {
            "messaging_product": "whatsapp",
            "to": "573001234567",
            "type": "interactive",
            "interactive": {
                "type": "cta_url",
                "body": {"text": "Paga aquí"},
                "action": {"name": "cta_url", "parameters": {"display_text": "Pagar"}},
            },
        },
    ],
    ids=[
        "product",
        "no-to",
        "bad-to",
        "missing-object",
        "unknown-type",
        "empty-body",
        "unknown-field",
        "id-and-link",
        "cta-no-url",
    ],
)
async def test_malformed_payload_gets_invalid_parameter(
    sandbox: httpx.AsyncClient, payload: dict[str, Any]
) -> None:
    response = await sandbox.post(URL, json=payload, headers=AUTH)
    error = assert_meta_error(response, 400, 100)
    assert error["message"].startswith("(#100)")
    assert (await sandbox.get("/sandbox/outbox")).json() == []


async def test_three_buttons_pass_and_four_are_rejected(sandbox: httpx.AsyncClient) -> None:
    assert (await sandbox.post(URL, json=buttons(3), headers=AUTH)).status_code == 200
    response = await sandbox.post(URL, json=buttons(4), headers=AUTH)
    error = assert_meta_error(response, 400, 131009)
    assert error["message"] == "(#131009) Parameter value is not valid"
    assert "buttons" in error["error_data"]["details"]
    long_title = await sandbox.post(
        URL, json=buttons(2, title="A title longer than 20"), headers=AUTH
    )
    assert "title" in assert_meta_error(long_title, 400, 131009)["error_data"]["details"]


async def test_list_cta_url_template_and_media_are_accepted(sandbox: httpx.AsyncClient) -> None:
    base = {"messaging_product": "whatsapp", "to": "573001234567"}
    payloads = [
        {
            **base,
            "type": "interactive",
            "interactive": {
                "type": "list",
                "header": {"type": "text", "text": "Trámites"},
                "body": {"text": "Elige una opción"},
                "action": {
                    "button": "Ver opciones",
                    "sections": [
                        {"title": "Impuestos", "rows": [{"id": "tax", "title": "Vehicular"}]}
                    ],
                },
            },
        },
        {
            **base,
            "type": "interactive",
            "interactive": {
                "type": "cta_url",
                "body": {"text": "Tu deuda es $100.000"},
                "action": {
                    "name": "cta_url",
                    "parameters": {"display_text": "Pagar ahora", "url": "https://pay.example/x"},
                },
            },
        },
        {
            **base,
            "type": "template",
            "template": {"name": "hello_world", "language": {"code": "en_US"}},
        },
        {**base, "type": "document", "document": {"link": "https://x/y.pdf", "filename": "y.pdf"}},
        {**base, "type": "reaction", "reaction": {"message_id": "wamid.X", "emoji": "👍"}},
    ]
    for payload in payloads:
        response = await sandbox.post(URL, json=payload, headers=AUTH)
        assert response.status_code == 200, response.json()
    kinds = [e["type"] for e in (await sandbox.get("/sandbox/outbox")).json()]
    assert kinds == ["interactive", "interactive", "template", "document", "reaction"]


async def test_list_with_eleven_rows_is_rejected(sandbox: httpx.AsyncClient) -> None:
    rows = [{"id": f"r{i}", "title": f"Fila {i}"} for i in range(11)]
    payload = {
        "messaging_product": "whatsapp",
        "to": "573001234567",
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": "Elige"},
            "action": {
                "button": "Ver",
                "sections": [{"title": "A", "rows": rows[:6]}, {"title": "B", "rows": rows[6:]}],
            },
        },
    }
    error = assert_meta_error(await sandbox.post(URL, json=payload, headers=AUTH), 400, 131009)
    assert "10 rows" in error["error_data"]["details"]


async def test_mark_as_read_with_typing_indicator(sandbox: httpx.AsyncClient) -> None:
    payload = {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.ABC",
        "typing_indicator": {"type": "text"},
    }
    response = await sandbox.post(URL, json=payload, headers=AUTH)
    assert response.json() == {"success": True}
    (entry,) = (await sandbox.get("/sandbox/outbox")).json()
    assert entry["kind"] == "read" and entry["message_id"] == "wamid.ABC"
    bad = {**payload, "typing_indicator": {"type": "audio"}}
    assert_meta_error(await sandbox.post(URL, json=bad, headers=AUTH), 400, 100)


async def test_rate_limit_fault_then_normal_service(sandbox: httpx.AsyncClient) -> None:
    armed = await sandbox.post(
        "/sandbox/faults", json={"target": "graph", "kind": "429", "count": 2, "retry_after": 7}
    )
    assert armed.status_code == 201
    for _ in range(2):
        response = await sandbox.post(URL, json=text(), headers=AUTH)
        error = assert_meta_error(response, 429, 130429)
        assert response.headers["Retry-After"] == "7"
        assert error["error_data"]["details"]
    assert (await sandbox.get("/sandbox/faults")).json() == []
    assert (await sandbox.post(URL, json=text(), headers=AUTH)).status_code == 200
    assert len((await sandbox.get("/sandbox/outbox")).json()) == 1


async def test_token_expired_and_5xx_faults(sandbox: httpx.AsyncClient) -> None:
    await sandbox.post("/sandbox/faults", json={"kind": "token_expired"})
    await sandbox.post("/sandbox/faults", json={"kind": "5xx", "status": 503})
    expired = assert_meta_error(await sandbox.post(URL, json=text(), headers=AUTH), 401, 190)
    assert expired["error_subcode"] == 463
    unavailable = assert_meta_error(await sandbox.post(URL, json=text(), headers=AUTH), 503, 2)
    assert unavailable["is_transient"] is True
    assert (await sandbox.post(URL, json=text(), headers=AUTH)).status_code == 200


async def test_faults_can_target_one_number_and_be_cleared(sandbox: httpx.AsyncClient) -> None:
    await sandbox.post("/sandbox/faults", json={"kind": "5xx", "phone_number_id": OTHER_PNID})
    assert (await sandbox.post(URL, json=text(), headers=AUTH)).status_code == 200
    assert len((await sandbox.get("/sandbox/faults")).json()) == 1
    assert (await sandbox.delete("/sandbox/faults")).json() == {"deleted": 1}


@pytest.fixture
async def quick_drops() -> AsyncIterator[httpx.AsyncClient]:
    """The sandbox with a held answer given up on after 50 ms (not 60 s)."""
    settings = SandboxSettings(
        graph_tokens={PNID: SecretStr(TOKEN)},
        drop_hold_s=0.05,
        service_window_enforced=False,
        status_callbacks_enabled=False,
    )
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        yield client


async def test_drop_fault_holds_then_gives_up_without_recording(
    quick_drops: httpx.AsyncClient,
) -> None:
    await quick_drops.post("/sandbox/faults", json={"kind": "drop"})
    await quick_drops.post("/sandbox/faults", json={"kind": "latency", "latency_ms": 1})
    dropped = await quick_drops.post(URL, json=text(), headers=AUTH)
    assert dropped.status_code == 504 and dropped.content == b""
    assert (await quick_drops.get("/sandbox/outbox")).json() == []
    slow = await quick_drops.post(URL, json=text(), headers=AUTH)
    assert slow.status_code == 200
    assert len((await quick_drops.get("/sandbox/outbox")).json()) == 1


async def test_answer_faults_take_the_send_before_the_answer_fails_or_lags(
    quick_drops: httpx.AsyncClient,
) -> None:
    await quick_drops.post("/sandbox/faults", json={"kind": "answer_lost"})
    await quick_drops.post("/sandbox/faults", json={"kind": "slow_answer", "latency_ms": 1})
    lost = await quick_drops.post(
        URL, json={**text(), "biz_opaque_callback_data": "request-1"}, headers=AUTH
    )
    assert lost.status_code == 504 and lost.content == b""
    [taken] = (await quick_drops.get("/sandbox/outbox")).json()
    assert taken["payload"]["biz_opaque_callback_data"] == "request-1"
    slow = await quick_drops.post(URL, json=text(), headers=AUTH)
    assert slow.status_code == 200
    assert len((await quick_drops.get("/sandbox/outbox")).json()) == 2


async def test_answer_faults_are_for_the_graph_fake_only(sandbox: httpx.AsyncClient) -> None:
    refused = await sandbox.post("/sandbox/faults", json={"kind": "answer_lost", "target": "sci"})
    assert refused.status_code == 422
