"""The webhook lane answers exactly as FastAPI's routes would, and passes the rest on.

Every other webhook test runs through the lane (it is in every gateway); these compare it
with the same gateway serving through FastAPI only (``create_app(webhook_lane=False)``),
over real HTTP, so the OpenAPI-documented routes and the lane cannot drift apart.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from cauce_devstack.servers import NatsServer
from cauce_devstack.testing import serving
from cauce_gateway.app import create_app
from cauce_gateway.webhooks.lane import EXACT_ROUTES, TOKEN_ROUTES

from .conftest import (
    CHATTIGO_TOKEN,
    RunningGateway,
    make_settings,
    signed_meta,
    stream_messages,
    text_webhook,
)

#: Response headers that say something (not the date or the connection's).
COMPARED_HEADERS = ("content-type", "www-authenticate", "retry-after")


@pytest.fixture
async def fastapi_only(nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[str]:
    settings = make_settings(nats_server.url, tmp_path, max_body_bytes=4096, retry_after_s=7)
    async with serving(create_app(settings, webhook_lane=False), settings.port) as url:
        yield url


@pytest.fixture
async def small_gateway(nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[str]:
    """A gateway with the lane, the same body limit as ``fastapi_only``."""
    settings = make_settings(nats_server.url, tmp_path, max_body_bytes=4096, retry_after_s=7)
    async with serving(create_app(settings), settings.port) as url:
        yield url


def _cases() -> list[tuple[str, str, bytes, dict[str, str]]]:
    body, headers = signed_meta(text_webhook("Hola", message_id="wamid.LANE1"))
    alias_body, alias_headers = signed_meta(text_webhook("Hola", message_id="wamid.LANE2"))
    chattigo_body, _ = signed_meta(text_webhook("Hola", message_id="wamid.LANE3"))
    huge, huge_headers = signed_meta(text_webhook("x" * 5000, message_id="wamid.LANE4"))
    return [
        ("accepted", "/webhooks/whatsapp", body, headers),
        ("seed alias", "/api/v1/webhooks/whatsapp", alias_body, alias_headers),
        ("wrong signature", "/webhooks/whatsapp", body, {**headers, "X-Hub-Signature-256": "x"}),
        ("no signature", "/webhooks/ycloud", body, {"Content-Type": "application/json"}),
        ("over the limit", "/webhooks/whatsapp", huge, huge_headers),
        ("chattigo token", f"/webhooks/chattigo/{CHATTIGO_TOKEN}", chattigo_body, {}),
        ("unknown token", "/webhooks/chattigo/not-a-token", chattigo_body, {}),
        ("token too long", "/webhooks/chattigo/" + "t" * 300, chattigo_body, {}),
        ("not JSON", "/webhooks/chattigo/" + CHATTIGO_TOKEN, b"{not json", {}),
    ]


@pytest.mark.parametrize(
    ("case", "path", "body", "headers"),
    [pytest.param(*case, id=case[0]) for case in _cases()],  # ids without the time in bodies
)
async def test_lane_answers_as_the_route_does(
    small_gateway: str,
    fastapi_only: str,
    case: str,
    path: str,
    body: bytes,
    headers: dict[str, str],
) -> None:
    answers: list[httpx.Response] = []
    for url in (small_gateway, fastapi_only):
        async with httpx.AsyncClient(base_url=url, timeout=15.0) as client:
            answers.append(await client.post(path, content=body, headers=headers))
    lane, route = answers
    assert lane.status_code == route.status_code
    assert lane.content == route.content
    for name in COMPARED_HEADERS:
        assert lane.headers.get(name) == route.headers.get(name), name


async def test_lane_takes_only_the_webhook_posts(gateway: RunningGateway) -> None:
    """Other methods and paths reach FastAPI: the handshake, probes, 405s and 404s."""
    async with gateway.client() as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.put("/webhooks/whatsapp", content=b"{}")).status_code == 405
        assert (await client.post("/webhooks/whatsapp/extra", content=b"{}")).status_code == 404
        body, headers = signed_meta(text_webhook(message_id="wamid.LANE5"))
        accepted = await client.post("/webhooks/whatsapp", content=body, headers=headers)
    assert accepted.status_code == 200
    assert len(await stream_messages(gateway.nats.url)) == 1


def test_every_lane_path_is_a_documented_route(tmp_path: Path) -> None:
    """The lane serves nothing OpenAPI does not describe (the routes are the contract)."""
    documented = create_app(make_settings("nats://127.0.0.1:1", tmp_path)).openapi()["paths"]
    for path in EXACT_ROUTES:
        assert "post" in documented[path], path
    for token_route in TOKEN_ROUTES:
        assert "post" in documented[token_route.route.template], token_route.route.template
