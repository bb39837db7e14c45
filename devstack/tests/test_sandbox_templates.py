"""Message templates as objects of a WhatsApp Business Account in the fake Graph API:
Meta's shape, the seeds, and Meta's refusals of a template send."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from cauce_devstack.sandbox.app import create_app
from cauce_devstack.sandbox.meta.templates import (
    DEFAULT_TEMPLATES,
    KnownTemplate,
    TemplateStore,
    expected_counts,
    template_id,
)
from cauce_devstack.sandbox.settings import SandboxSettings

PNID = "111111111111111"
OTHER_PNID = "222222222222222"
TOKEN = "token-for-111"
OTHER_TOKEN = "token-for-222"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
OTHER_AUTH = {"Authorization": f"Bearer {OTHER_TOKEN}"}
OTHER_WABA = "200000000000002"


def url(pnid: str = PNID) -> str:
    return f"/graph/v23.0/{pnid}/messages"


def settings(**overrides: Any) -> SandboxSettings:
    values: dict[str, Any] = {
        "graph_tokens": {PNID: SecretStr(TOKEN), OTHER_PNID: SecretStr(OTHER_TOKEN)},
        "service_window_enforced": False,
        "status_callbacks_enabled": False,
    }
    values.update(overrides)
    return SandboxSettings(**values)


def client_for(sandbox_settings: SandboxSettings) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(sandbox_settings))
    return httpx.AsyncClient(transport=transport, base_url="http://sandbox")


@pytest.fixture
async def sandbox() -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(settings()) as client:
        yield client


def texts(*values: str) -> list[dict[str, str]]:
    return [{"type": "text", "text": value} for value in values]


def send(
    name: str,
    language: str = "es",
    *,
    header: list[dict[str, Any]] | None = None,
    body: tuple[str, ...] = (),
    url_suffix: str | None = None,
    to: str = "573001234567",
) -> dict[str, Any]:
    components: list[dict[str, Any]] = []
    if header is not None:
        components.append({"type": "header", "parameters": header})
    if body:
        components.append({"type": "body", "parameters": texts(*body)})
    if url_suffix is not None:
        components.append(
            {"type": "button", "sub_type": "url", "index": "0", "parameters": texts(url_suffix)}
        )
    return {
        "messaging_product": "whatsapp",
        "to": to,
        "type": "template",
        "template": {"name": name, "language": {"code": language}, "components": components},
    }


def meta_error(response: httpx.Response, status: int, code: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["type"] == "OAuthException"
    assert error["fbtrace_id"]
    assert error["message"].startswith(f"(#{code})")
    assert error["error_data"]["messaging_product"] == "whatsapp"
    return dict(error)


# --- the template objects -----------------------------------------------------------------


def test_seeds_keep_the_old_three_and_add_campaign_templates() -> None:
    seeds = {(t.name, t.language): t for t in DEFAULT_TEMPLATES}
    counts = {
        key: (t.category, t.header_params, t.body_params, t.url_button_params)
        for key, t in seeds.items()
    }
    assert counts == {
        ("hello_world", "en_US"): ("UTILITY", 0, 0, 0),
        ("bienvenida", "es"): ("MARKETING", 0, 1, 0),
        ("pago_confirmado", "es"): ("UTILITY", 0, 2, 0),
        ("promo_temporada", "es"): ("MARKETING", 0, 2, 1),
        ("novedades_catalogo", "es"): ("MARKETING", 1, 1, 0),
        ("recordatorio_cita", "es"): ("UTILITY", 1, 3, 0),
        ("mensaje_fuera_de_ventana", "es"): ("UTILITY", 0, 1, 0),
    }
    assert all(t.status == "APPROVED" for t in DEFAULT_TEMPLATES)
    assert len({t.id for t in DEFAULT_TEMPLATES}) == len(DEFAULT_TEMPLATES)


def test_a_template_has_metas_full_shape() -> None:
    promo = next(t for t in DEFAULT_TEMPLATES if t.name == "promo_temporada")
    shape = promo.meta_shape()
    assert shape["id"] == template_id("promo_temporada", "es") and shape["id"].isdigit()
    assert (shape["name"], shape["language"], shape["status"], shape["category"]) == (
        "promo_temporada",
        "es",
        "APPROVED",
        "MARKETING",
    )
    assert shape["quality_score"] == {"score": "GREEN"}
    assert [c["type"] for c in shape["components"]] == ["HEADER", "BODY", "FOOTER", "BUTTONS"]
    body = shape["components"][1]
    assert "{{1}}" in body["text"] and "{{2}}" in body["text"]
    assert body["example"] == {"body_text": [["Ana", "10%"]]}
    url_button = shape["components"][3]["buttons"][0]
    assert url_button["type"] == "URL" and url_button["url"].endswith("/{{1}}")


def test_counts_make_components_and_components_make_counts() -> None:
    from_counts = KnownTemplate(name="aviso", language="es_CO", body_params=2, header_params=1)
    assert [c["type"] for c in from_counts.components] == ["HEADER", "BODY"]
    assert expected_counts(from_counts.components) == (1, 2, 0)
    assert from_counts.quality_score == "UNKNOWN" and from_counts.status == "APPROVED"

    from_components = KnownTemplate(
        name="cupon",
        language="es",
        category="marketing",
        body_params=9,  # the components win
        components=[
            {"type": "HEADER", "format": "VIDEO"},
            {"type": "BODY", "text": "Hola {{1}}, tu cupón {{2}} vence el {{3}}; {{1}}."},
            {
                "type": "BUTTONS",
                "buttons": [
                    {"type": "URL", "text": "Usar", "url": "https://x.example/c/{{1}}"},
                    {"type": "URL", "text": "Tienda", "url": "https://x.example/"},
                ],
            },
        ],
    )
    assert from_components.category == "MARKETING"
    assert from_components.pricing_category == "marketing"
    assert (
        from_components.header_params,
        from_components.body_params,
        from_components.url_button_params,
    ) == (1, 3, 1)


def test_each_sandbox_gets_its_own_copies_of_the_templates() -> None:
    store = TemplateStore({"1": DEFAULT_TEMPLATES})
    copy = store.find("1", "bienvenida", "es")
    assert copy is not None
    copy.status = "PAUSED"
    assert next(t for t in DEFAULT_TEMPLATES if t.name == "bienvenida").status == "APPROVED"
    assert store.find("2", "bienvenida", "es") is None


# --- sends ------------------------------------------------------------------------------------


async def test_campaign_templates_pass_with_every_parameter(sandbox: httpx.AsyncClient) -> None:
    image = [{"type": "image", "image": {"link": "https://cauce.example/a.jpg"}}]
    for payload in (
        send("promo_temporada", body=("Ana", "10%"), url_suffix="abc123"),
        send("novedades_catalogo", header=image, body=("Ana",)),
        send("recordatorio_cita", header=texts("12 de marzo"), body=("Ana", "12/03", "10:30")),
        send("mensaje_fuera_de_ventana", body=("tu pago quedó registrado",)),
    ):
        response = await sandbox.post(url(), json=payload, headers=AUTH)
        assert response.status_code == 200, response.text
        assert response.json()["messages"][0]["message_status"] == "accepted"


async def test_a_url_buttons_parameter_is_counted(sandbox: httpx.AsyncClient) -> None:
    missing = await sandbox.post(
        url(), json=send("promo_temporada", body=("Ana", "10%")), headers=AUTH
    )
    assert meta_error(missing, 400, 132000)["error_data"]["details"] == (
        "button: number of localizable_params (0) does not match the expected number of params (1)"
    )
    extra = await sandbox.post(
        url(), json=send("pago_confirmado", body=("Ana", "$1"), url_suffix="x"), headers=AUTH
    )
    meta_error(extra, 400, 132000)
    no_header = await sandbox.post(
        url(), json=send("recordatorio_cita", body=("Ana", "12/03", "10:30")), headers=AUTH
    )
    assert "header" in meta_error(no_header, 400, 132000)["error_data"]["details"]
    quick_reply = send("pago_confirmado", body=("Ana", "$1"))
    quick_reply["template"]["components"].append(
        {
            "type": "button",
            "sub_type": "quick_reply",
            "index": "0",
            "parameters": [{"type": "payload", "payload": "SI"}],
        }
    )
    assert (await sandbox.post(url(), json=quick_reply, headers=AUTH)).status_code == 200


@pytest.mark.parametrize(
    ("status", "http", "code", "message"),
    [
        ("PAUSED", 400, 132015, "(#132015) Template is Paused"),
        ("DISABLED", 400, 132016, "(#132016) Template is Disabled"),
        ("PENDING", 404, 132001, "(#132001) Template name does not exist in the translation"),
        ("REJECTED", 404, 132001, "(#132001) Template name does not exist in the translation"),
    ],
)
async def test_a_template_that_is_not_approved_is_refused(
    status: str, http: int, code: int, message: str
) -> None:
    held = KnownTemplate(name="aviso", language="es", body_params=1, status=status)
    async with client_for(settings(graph_templates=[held])) as client:
        response = await client.post(url(), json=send("aviso", body=("Ana",)), headers=AUTH)
        assert meta_error(response, http, code)["message"] == message
        assert (await client.get("/sandbox/outbox")).json() == []


async def test_paused_refusal_carries_metas_details() -> None:
    held = KnownTemplate(name="aviso", language="es", status="PAUSED")
    async with client_for(settings(graph_templates=[held])) as client:
        response = await client.post(url(), json=send("aviso"), headers=AUTH)
    assert meta_error(response, 400, 132015)["error_data"]["details"] == (
        "Template is paused due to low quality so it cannot be sent in a template message."
    )


async def test_a_number_sends_only_its_own_wabas_templates() -> None:
    own = KnownTemplate(name="solo_b", language="es")
    split = settings(
        phone_number_wabas={OTHER_PNID: OTHER_WABA}, graph_waba_templates={OTHER_WABA: [own]}
    )
    async with client_for(split) as client:
        ok = await client.post(url(OTHER_PNID), json=send("solo_b"), headers=OTHER_AUTH)
        assert ok.status_code == 200, ok.text
        meta_error(await client.post(url(), json=send("solo_b"), headers=AUTH), 404, 132001)
        other = await client.post(
            url(OTHER_PNID), json=send("bienvenida", body=("Ana",)), headers=OTHER_AUTH
        )
        meta_error(other, 404, 132001)
        mine = await client.post(url(), json=send("bienvenida", body=("Ana",)), headers=AUTH)
        assert mine.status_code == 200
