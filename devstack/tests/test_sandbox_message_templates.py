"""``GET /graph/{version}/{waba_id}/message_templates``: a WABA's templates with Meta's
paging, fields, filters and errors."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from cauce_devstack.sandbox.app import create_app
from cauce_devstack.sandbox.meta.templates import DEFAULT_TEMPLATES, KnownTemplate
from cauce_devstack.sandbox.settings import DEV_WABA_ID, SandboxSettings

PNID = "111111111111111"
OTHER_PNID = "222222222222222"
TOKEN = "token-for-111"
OTHER_TOKEN = "token-for-222"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
OTHER_AUTH = {"Authorization": f"Bearer {OTHER_TOKEN}"}
OTHER_WABA = "200000000000002"
LIST = f"/graph/v23.0/{DEV_WABA_ID}/message_templates"
SEED_NAMES = [t.name for t in DEFAULT_TEMPLATES]


def client_for(**overrides: Any) -> httpx.AsyncClient:
    values: dict[str, Any] = {
        "graph_tokens": {PNID: SecretStr(TOKEN), OTHER_PNID: SecretStr(OTHER_TOKEN)},
        "phone_number_wabas": {OTHER_PNID: OTHER_WABA},
        "graph_waba_templates": {OTHER_WABA: [KnownTemplate(name="solo_b", language="es")]},
        "status_callbacks_enabled": False,
    }
    values.update(overrides)
    transport = httpx.ASGITransport(app=create_app(SandboxSettings(**values)))
    return httpx.AsyncClient(transport=transport, base_url="http://sandbox")


@pytest.fixture
async def sandbox() -> AsyncIterator[httpx.AsyncClient]:
    async with client_for() as client:
        yield client


def graph_error(response: httpx.Response, status: int, code: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["type"] == "OAuthException" and error["fbtrace_id"]
    return dict(error)


async def test_lists_the_wabas_templates_with_metas_default_fields(
    sandbox: httpx.AsyncClient,
) -> None:
    response = await sandbox.get(LIST, headers=AUTH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [t["name"] for t in body["data"]] == SEED_NAMES
    first = body["data"][0]
    assert list(first) == [
        "name",
        "parameter_format",
        "components",
        "language",
        "status",
        "category",
        "id",
    ]
    assert first == {
        key: value
        for key, value in DEFAULT_TEMPLATES[0].meta_shape().items()
        if key in first  # the seed as Meta shows it
    }
    assert set(body["paging"]) == {"cursors"}  # one page: neither next nor previous
    assert set(body["paging"]["cursors"]) == {"before", "after"}

    other = await sandbox.get(f"/graph/v23.0/{OTHER_WABA}/message_templates", headers=OTHER_AUTH)
    assert [t["name"] for t in other.json()["data"]] == ["solo_b"]


async def test_pages_follow_next_and_previous(sandbox: httpx.AsyncClient) -> None:
    names: list[str] = []
    pages: list[dict[str, Any]] = []
    page = (await sandbox.get(LIST, params={"limit": 3}, headers=AUTH)).json()
    while True:
        pages.append(page)
        names += [t["name"] for t in page["data"]]
        assert len(page["data"]) <= 3
        if "next" not in page["paging"]:
            break
        assert page["paging"]["next"].startswith("http://sandbox/graph/v23.0/")
        page = (await sandbox.get(page["paging"]["next"], headers=AUTH)).json()
    assert names == SEED_NAMES
    assert len(pages) == 3
    assert "previous" not in pages[0]["paging"]
    back = (await sandbox.get(pages[1]["paging"]["previous"], headers=AUTH)).json()
    assert back["data"] == pages[0]["data"]
    after = pages[0]["paging"]["cursors"]["after"]
    by_cursor = await sandbox.get(LIST, params={"limit": 3, "after": after}, headers=AUTH)
    assert by_cursor.json()["data"] == pages[1]["data"]
    past_the_end = await sandbox.get(
        LIST, params={"after": pages[2]["paging"]["cursors"]["after"]}, headers=AUTH
    )
    assert past_the_end.json() == {"data": []}


async def test_fields_choose_what_each_template_shows(sandbox: httpx.AsyncClient) -> None:
    response = await sandbox.get(
        LIST, params={"fields": "name,status,quality_score", "limit": 1}, headers=AUTH
    )
    (item,) = response.json()["data"]
    assert item == {
        "name": "hello_world",
        "status": "APPROVED",
        "quality_score": {"score": "GREEN"},
        "id": DEFAULT_TEMPLATES[0].id,
    }
    unknown = await sandbox.get(LIST, params={"fields": "name,colour"}, headers=AUTH)
    error = graph_error(unknown, 400, 100)
    assert error["message"] == (
        "(#100) Tried accessing nonexisting field (colour) on node type (WhatsAppBusinessHSM)"
    )


async def test_status_name_and_category_filters() -> None:
    templates = [
        *DEFAULT_TEMPLATES,
        KnownTemplate(name="promo_pausada", language="es", category="MARKETING", status="PAUSED"),
    ]
    async with client_for(graph_templates=templates) as client:

        async def names(**params: str) -> list[str]:
            response = await client.get(LIST, params=params, headers=AUTH)
            assert response.status_code == 200, response.text
            return [t["name"] for t in response.json()["data"]]

        assert await names(status="PAUSED") == ["promo_pausada"]
        assert "promo_pausada" not in await names(status="APPROVED")
        assert await names(status="paused,disabled") == ["promo_pausada"]
        assert await names(name="PROMO") == ["promo_temporada", "promo_pausada"]
        assert await names(category="MARKETING", status="APPROVED") == [
            "bienvenida",
            "promo_temporada",
            "novedades_catalogo",
        ]
        assert await names(language="en_US") == ["hello_world"]
        bad = await client.get(LIST, params={"status": "SLEEPING"}, headers=AUTH)
        assert "status must be one of" in graph_error(bad, 400, 100)["error_data"]["details"]
        bad_limit = await client.get(LIST, params={"limit": "0"}, headers=AUTH)
        graph_error(bad_limit, 400, 100)
        bad_cursor = await client.get(LIST, params={"after": "not-ours"}, headers=AUTH)
        graph_error(bad_cursor, 400, 100)


async def test_tokens_and_unknown_wabas_are_refused_as_meta_does(
    sandbox: httpx.AsyncClient,
) -> None:
    missing = graph_error(await sandbox.get(LIST), 401, 190)
    assert missing["error_subcode"] == 467
    wrong = await sandbox.get(LIST, headers={"Authorization": "Bearer nope"})
    assert graph_error(wrong, 401, 190)["message"] == (
        "Invalid OAuth access token - Cannot parse access token"
    )
    for waba, auth in (("999999999999999", AUTH), (OTHER_WABA, AUTH), (DEV_WABA_ID, OTHER_AUTH)):
        response = await sandbox.get(f"/graph/v23.0/{waba}/message_templates", headers=auth)
        error = graph_error(response, 400, 100)
        assert error["error_subcode"] == 33
        assert error["message"].startswith(
            f"Unsupported get request. Object with ID '{waba}' does not exist"
        )
    refused = (await sandbox.get("/sandbox/outbox", params={"include_refused": True})).json()
    assert {entry["status"] for entry in refused} == {400, 401}
