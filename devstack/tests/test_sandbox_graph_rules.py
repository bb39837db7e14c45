"""Meta's sending rules in the fake Graph API: templates, throughput, latency."""

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from cauce_devstack.sandbox.app import create_app
from cauce_devstack.sandbox.meta.templates import KnownTemplate
from cauce_devstack.sandbox.settings import SandboxSettings

PNID = "111111111111111"
OTHER_PNID = "222222222222222"
TOKEN = "token-for-111"
OTHER_TOKEN = "token-for-222"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
OTHER_AUTH = {"Authorization": f"Bearer {OTHER_TOKEN}"}


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


async def client_for(sandbox_settings: SandboxSettings) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(sandbox_settings))
    return httpx.AsyncClient(transport=transport, base_url="http://sandbox")


@pytest.fixture
async def sandbox() -> AsyncIterator[httpx.AsyncClient]:
    async with await client_for(settings()) as client:
        yield client


def text(to: str = "573001234567") -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": "hola"}}


def template(name: str, language: str, *body_params: str) -> dict[str, Any]:
    components = []
    if body_params:
        params = [{"type": "text", "text": p} for p in body_params]
        components.append({"type": "body", "parameters": params})
    return {
        "messaging_product": "whatsapp",
        "to": "573001234567",
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
    return dict(error)


# --- payload and template errors ------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        ({**text(), "text": {"body": "x" * 4097}}, 131009, "text.body"),
        ({**text(), "text": {"body": "x", "preview": True}}, 100, "text.preview"),
        (
            {**text(), "type": "location", "location": {"latitude": 91, "longitude": 0}},
            131009,
            "location.latitude",
        ),
        ({k: v for k, v in text().items() if k != "to"}, 100, "to"),
    ],
    ids=["too-long", "unknown-field", "out-of-range", "missing"],
)
async def test_invalid_payloads_name_the_field_with_metas_code(
    sandbox: httpx.AsyncClient, payload: dict[str, Any], code: int, field: str
) -> None:
    error = meta_error(await sandbox.post(url(), json=payload, headers=AUTH), 400, code)
    assert field in error["error_data"]["details"]
    assert error["error_data"]["messaging_product"] == "whatsapp"


async def test_known_templates_with_the_right_parameter_count_pass(
    sandbox: httpx.AsyncClient,
) -> None:
    for payload in (
        template("bienvenida", "es", "Ana"),
        template("pago_confirmado", "es", "Ana", "$100.000"),
        template("hello_world", "en_US"),
    ):
        response = await sandbox.post(url(), json=payload, headers=AUTH)
        assert response.status_code == 200, response.text
        assert response.json()["messages"][0]["message_status"] == "accepted"


async def test_unknown_template_or_language_is_132001(sandbox: httpx.AsyncClient) -> None:
    missing = await sandbox.post(url(), json=template("no_existe", "es"), headers=AUTH)
    assert meta_error(missing, 404, 132001)["error_data"]["details"] == (
        "template name (no_existe) does not exist in es"
    )
    wrong_language = await sandbox.post(url(), json=template("bienvenida", "en", "x"), headers=AUTH)
    meta_error(wrong_language, 404, 132001)
    assert (await sandbox.get("/sandbox/outbox")).json() == []


async def test_wrong_parameter_count_is_132000(sandbox: httpx.AsyncClient) -> None:
    response = await sandbox.post(
        url(), json=template("pago_confirmado", "es", "Ana"), headers=AUTH
    )
    error = meta_error(response, 400, 132000)
    assert error["error_data"]["details"] == (
        "body: number of localizable_params (1) does not match the expected number of params (2)"
    )
    none_given = await sandbox.post(url(), json=template("bienvenida", "es"), headers=AUTH)
    meta_error(none_given, 400, 132000)


async def test_templates_are_configurable_and_the_check_can_be_off() -> None:
    custom = settings(graph_templates=[KnownTemplate(name="aviso", language="es_CO")])
    async with await client_for(custom) as client:
        ok = await client.post(url(), json=template("aviso", "es_CO"), headers=AUTH)
        assert ok.status_code == 200
        gone = await client.post(url(), json=template("bienvenida", "es", "x"), headers=AUTH)
        meta_error(gone, 404, 132001)
    async with await client_for(settings(graph_template_check=False)) as client:
        anything = await client.post(url(), json=template("cualquiera", "xx", "a"), headers=AUTH)
        assert anything.status_code == 200


# --- throughput -------------------------------------------------------------------------


async def test_concurrent_burst_above_the_limit_gets_130429_and_metrics_stay_under() -> None:
    async with await client_for(settings(graph_rate_limit_per_second=5)) as client:
        responses = await asyncio.gather(
            *(client.post(url(), json=text(), headers=AUTH) for _ in range(20))
        )
        accepted = [r for r in responses if r.status_code == 200]
        limited = [r for r in responses if r.status_code == 429]
        assert len(accepted) == 5 and len(limited) == 15
        for response in limited:
            error = meta_error(response, 429, 130429)
            assert error["message"] == "(#130429) Rate limit hit"
            assert int(response.headers["Retry-After"]) >= 1

        # another number has its own budget
        other = await client.post(url(OTHER_PNID), json=text(), headers=OTHER_AUTH)
        assert other.status_code == 200

        metrics = (await client.get("/sandbox/metrics")).json()["graph"]
        assert metrics[PNID]["accepted"] == 5
        assert metrics[PNID]["rate_limited"] == 15
        assert metrics[PNID]["limit_per_second"] == 5
        assert metrics[PNID]["max_in_any_1s_window"] <= 5
        assert metrics[OTHER_PNID]["accepted"] == 1
        assert len((await client.get("/sandbox/outbox")).json()) == 6


async def test_a_client_honouring_retry_after_gets_everything_through_under_the_limit() -> None:
    async with await client_for(settings(graph_rate_limit_per_second=8)) as client:

        async def send_until_accepted() -> None:
            for _ in range(10):
                response = await client.post(url(), json=text(), headers=AUTH)
                if response.status_code == 200:
                    return
                meta_error(response, 429, 130429)
                await asyncio.sleep(float(response.headers["Retry-After"]))
            raise AssertionError("never accepted")

        await asyncio.gather(*(send_until_accepted() for _ in range(12)))
        metrics = (await client.get("/sandbox/metrics")).json()["graph"][PNID]
        assert metrics["accepted"] == 12
        assert metrics["rate_limited"] >= 4
        assert metrics["max_in_any_1s_window"] == 8


async def test_limits_per_number_at_startup_and_at_run_time() -> None:
    async with await client_for(
        settings(graph_rate_limit_per_second=1, graph_rate_limits={OTHER_PNID: 3})
    ) as client:
        others = [
            await client.post(url(OTHER_PNID), json=text(), headers=OTHER_AUTH) for _ in range(4)
        ]
        assert [r.status_code for r in others] == [200, 200, 200, 429]
        changed = await client.put(f"/sandbox/throughput/{PNID}", json={"per_second": 2})
        assert changed.status_code == 200
        mine = [await client.post(url(), json=text(), headers=AUTH) for _ in range(3)]
        assert [r.status_code for r in mine] == [200, 200, 429]
        assert (await client.delete("/sandbox/metrics")).json() == {"deleted": 2}
        assert (await client.get("/sandbox/metrics")).json() == {"graph": {}}


async def test_enforcement_off_accepts_everything_but_still_measures() -> None:
    relaxed = settings(graph_rate_limit_per_second=2, graph_rate_limit_enforced=False)
    async with await client_for(relaxed) as client:
        responses = await asyncio.gather(
            *(client.post(url(), json=text(), headers=AUTH) for _ in range(6))
        )
        assert all(r.status_code == 200 for r in responses)
        metrics = (await client.get("/sandbox/metrics")).json()["graph"][PNID]
        assert metrics["max_in_any_1s_window"] == 6
        assert metrics["limit_per_second"] is None


# --- latency ----------------------------------------------------------------------------


async def test_base_latency_delays_every_graph_request() -> None:
    async with await client_for(settings(graph_latency_ms=150)) as client:
        started = time.monotonic()
        response = await client.post(url(), json=text(), headers=AUTH)
        elapsed = time.monotonic() - started
        assert response.status_code == 200
        assert elapsed >= 0.15  # a lower bound only: the sandbox must have waited
