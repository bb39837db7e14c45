"""A channel account added through the notifier's API receives its webhooks at the
gateway within a second: no restart, no environment change (the route travels through
JetStream KV). Real NATS and PostgreSQL; the gateway and the notifier in this process,
the gateway configured with no account at all."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from cauce_contracts.identity import Permission
from cauce_devstack.minted_tokens import TokenMinter
from cauce_devstack.sandbox.meta import webhooks as meta
from cauce_devstack.servers import NatsServer, free_port
from cauce_devstack.testing import eventually, service_test_values, serving, stored_messages
from cauce_gateway.app import create_app as create_gateway
from cauce_gateway.settings import GatewaySettings
from cauce_notifier.app import create_app as create_notifier
from cauce_notifier.settings import NotifierSettings

MINTER = TokenMinter()
APP_SECRET = "app-secret-of-the-live-channel-tests"
CONTACT_SECRET = "contact-key-secret-for-live-channel-tests"
PHONE_NUMBER_ID = "555000111222"
DID = "+57 310 555 0199"
#: The issue's promise: a channel added through the API takes webhooks within a second.
LIVE_WITHIN_S = 1.0


@dataclass
class Stack:
    nats_url: str
    gateway_url: str
    notifier_url: str
    http: httpx.AsyncClient

    async def channels(self, method: str, path: str = "", **kwargs: Any) -> httpx.Response:
        return await self.http.request(
            method,
            f"{self.notifier_url}/admin/channels{path}",
            headers=MINTER.headers("globex", Permission.CHANNELS_MANAGE),
            **kwargs,
        )

    async def whatsapp_webhook(self, text: str) -> httpx.Response:
        value = meta.messages_value(
            PHONE_NUMBER_ID,
            "573105550111",
            [meta.contact("573001234567", "Camila")],
            [meta.inbound_message("573001234567", meta.text(text))],
        )
        body = meta.encode(meta.webhook([value], "900000000000001"))
        headers = {
            "Content-Type": "application/json",
            meta.SIGNATURE_HEADER: meta.sign(body, APP_SECRET),
        }
        return await self.http.post(
            f"{self.gateway_url}/webhooks/whatsapp", content=body, headers=headers
        )

    async def tenants_of_messages(self) -> list[str]:
        """Whose each webhook's message became on JetStream: its tenant (the subject's
        4th token), or ``unassigned`` when the gateway knew no account for it."""
        tenants = []
        for stored in await stored_messages(self.nats_url, "INBOUND"):
            subject = stored.subject or ""
            if subject.startswith("inbound.message.received."):
                tenants.append(subject.split(".")[3])
            elif subject.startswith("inbound.unrecognized."):
                tenants.append("unassigned")
        return tenants


def gateway_settings(nats_url: str, tmp_path: Path) -> GatewaySettings:
    """A gateway that knows no account at all."""
    return GatewaySettings(
        **service_test_values(nats_url, tmp_path),
        port=free_port(),
        contact_key_secret=SecretStr(CONTACT_SECRET),
        meta_app_secrets=[SecretStr(APP_SECRET)],
    )


def notifier_settings(nats_url: str, database_url: str, tmp_path: Path) -> NotifierSettings:
    return NotifierSettings(
        **service_test_values(nats_url, tmp_path),
        port=free_port(),
        postgres_url=database_url,
        contact_key_secret=SecretStr(CONTACT_SECRET),
        identity_public_keys=MINTER.jwks,
        template_sync_interval_s=0,
    )


@pytest.fixture
async def stack(nats_server: NatsServer, database_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    gateway = gateway_settings(nats_server.url, tmp_path)
    notifier = notifier_settings(nats_server.url, database_url, tmp_path)
    async with (
        serving(create_gateway(gateway), gateway.port) as gateway_url,
        serving(create_notifier(notifier), notifier.port) as notifier_url,
        httpx.AsyncClient(timeout=10) as http,
    ):
        yield Stack(nats_server.url, gateway_url, notifier_url, http)


async def test_a_number_added_through_the_api_takes_its_webhooks_at_once(stack: Stack) -> None:
    before = await stack.whatsapp_webhook("antes")
    assert before.status_code == 200
    assert await stack.tenants_of_messages() == ["unassigned"]  # nobody's number yet

    created = await stack.channels(
        "POST",
        json={
            "channel": "whatsapp",
            "account_id": PHONE_NUMBER_ID,
            "credentials": {"access_token": "EAAG-live-channel-token-0123456789"},
        },
    )
    assert created.status_code == 201, created.text
    added_at = time.monotonic()

    async def routed() -> bool:
        await stack.whatsapp_webhook("hola")
        return (await stack.tenants_of_messages())[-1] == "globex"

    await eventually(routed, timeout=LIVE_WITHIN_S, what="the new number's webhook", poll_s=0.05)
    assert time.monotonic() - added_at < LIVE_WITHIN_S

    deleted = await stack.channels("DELETE", f"/{created.json()['id']}")
    assert deleted.status_code == 204

    async def unrouted() -> bool:
        await stack.whatsapp_webhook("después")
        return (await stack.tenants_of_messages())[-1] == "unassigned"

    await eventually(unrouted, timeout=LIVE_WITHIN_S, what="the deleted number's webhook")


async def test_a_chattigo_did_added_through_the_api_gets_its_webhook_url(stack: Stack) -> None:
    created = await stack.channels(
        "POST",
        json={
            "channel": "chattigo",
            "account_id": DID,
            "credentials": {"username": "globex-bot", "password": "chattigo-password-0123"},
        },
    )
    assert created.status_code == 201, created.text
    path = created.json()["webhook_path"]
    assert path.startswith("/webhooks/chattigo/") and len(path) > len("/webhooks/chattigo/") + 32
    listed = await stack.channels("GET")
    assert path.rsplit("/", 1)[1] not in listed.text  # the token is shown once, never again

    value = meta.messages_value(
        "ignored-by-chattigo",
        "573105550199",
        [meta.contact("573001234567", "Camila")],
        [meta.inbound_message("573001234567", meta.text("hola por chattigo"))],
    )
    body = meta.encode(meta.webhook([value], "900000000000001"))
    headers = {"Content-Type": "application/json"}

    async def accepted() -> bool:
        answer = await stack.http.post(f"{stack.gateway_url}{path}", content=body, headers=headers)
        return answer.status_code == 200

    await eventually(accepted, timeout=LIVE_WITHIN_S, what="the DID's webhook URL", poll_s=0.05)
    assert "globex" in await stack.tenants_of_messages()
    wrong = f"{stack.gateway_url}/webhooks/chattigo/{'x' * 43}"
    assert (await stack.http.post(wrong, content=body, headers=headers)).status_code == 401


async def test_routes_written_while_the_gateway_was_away_are_there_when_it_starts(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    """The bucket keeps the routes: a gateway started after the account was added (a
    new replica, a restart) routes it from its first webhook."""
    notifier = notifier_settings(nats_server.url, database_url, tmp_path)
    gateway = gateway_settings(nats_server.url, tmp_path)
    async with (
        serving(create_notifier(notifier), notifier.port) as notifier_url,
        httpx.AsyncClient(timeout=10) as http,
    ):
        early = Stack(nats_server.url, "", notifier_url, http)
        created = await early.channels(
            "POST",
            json={
                "channel": "whatsapp",
                "account_id": PHONE_NUMBER_ID,
                "credentials": {"access_token": "EAAG-live-channel-token-0123456789"},
            },
        )
        assert created.status_code == 201
        await _published(nats_server.url)
        async with serving(create_gateway(gateway), gateway.port) as gateway_url:
            late = Stack(nats_server.url, gateway_url, notifier_url, http)
            assert (await late.whatsapp_webhook("primera")).status_code == 200
            assert await late.tenants_of_messages() == ["globex"]


async def _published(nats_url: str) -> None:
    import nats

    async def there() -> bool:
        nc = await nats.connect(nats_url)
        try:
            kv = await nc.jetstream().key_value("channel-routes")
            with contextlib.suppress(Exception):
                return bool(await kv.get(f"whatsapp.{PHONE_NUMBER_ID}"))
            return False
        finally:
            await nc.close()

    await eventually(there, timeout=5, what="the route in the bucket")
