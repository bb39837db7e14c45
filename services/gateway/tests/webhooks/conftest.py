"""A real gateway (uvicorn on a free port) in front of a real nats-server."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from nats.js.api import RawStreamMsg

from cauce_devstack.sandbox.meta import webhooks as meta
from cauce_devstack.servers import NatsServer, free_port
from cauce_devstack.testing import service_test_values, serving, stored_messages
from cauce_gateway.app import create_app
from cauce_gateway.authenticity.sci_signature import sci_signature
from cauce_gateway.settings import (
    ChannelAccount,
    ChattigoAccount,
    GatewaySettings,
    KeyedTenant,
    OdooWebhookTenant,
    SciTenant,
)
from cauce_runtime import Telemetry, setup_telemetry

TENANT = "acme"
PHONE_NUMBER_ID = "734053143122597"
DISPLAY_NUMBER = "5492644710400"
UNKNOWN_PHONE_NUMBER_ID = "999999999999999"
CUSTOMER = "573001234567"
APP_SECRET = "test-meta-app-secret"
VERIFY_TOKEN = "test-verify-token-1234"
CHATTIGO_TOKEN = "ct_" + "x7Kq2" * 8
CHATTIGO_DID = "5492644710400"
YCLOUD_SECRET = "whsec_test_ycloud"
YCLOUD_NUMBER = "+573105550100"  # the business number in the YCloud fixtures
MANYCHAT_KEY = "mc-key-acme-0123456789abcdef"
SCI_SECRET = "sci-secret-acme-0123456789abcdef"
ODOO_TOKEN = "odoo_" + "Zr8pQ" * 8


@dataclass
class RunningGateway:
    url: str
    nats: NatsServer
    settings: GatewaySettings
    telemetry: Telemetry

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=15.0)


def make_settings(nats_url: str, tmp_path: Path, **overrides: object) -> GatewaySettings:
    values: dict[str, object] = {
        **service_test_values(nats_url, tmp_path),
        "port": free_port(),
        "publish_timeout_s": 1.0,
        "meta_app_secrets": [APP_SECRET],
        "meta_verify_token": VERIFY_TOKEN,
        "ycloud_webhook_secrets": [YCLOUD_SECRET],
        "whatsapp_accounts": [ChannelAccount(account_id=PHONE_NUMBER_ID, tenant_id=TENANT)],
        "chattigo_accounts": [
            ChattigoAccount(account_id=CHATTIGO_DID, tenant_id=TENANT, url_token=CHATTIGO_TOKEN)
        ],
        "ycloud_accounts": [ChannelAccount(account_id=YCLOUD_NUMBER, tenant_id=TENANT)],
        "manychat_tenants": [KeyedTenant(tenant_id=TENANT, api_key=MANYCHAT_KEY)],
        "sci_tenants": [SciTenant(tenant_id=TENANT, webhook_secret=SCI_SECRET)],
        "odoo_webhook_tenants": [OdooWebhookTenant(tenant_id=TENANT, url_token=ODOO_TOKEN)],
        "retry_after_s": 7,
    }
    values.update(overrides)
    return GatewaySettings(**values)  # type: ignore[arg-type]


@pytest.fixture
async def gateway(nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[RunningGateway]:
    settings = make_settings(nats_server.url, tmp_path)
    telemetry = setup_telemetry(settings)
    async with serving(create_app(settings), settings.port) as url:
        yield RunningGateway(url=url, nats=nats_server, settings=settings, telemetry=telemetry)


async def stream_messages(nats_url: str, stream: str = "INBOUND") -> list[RawStreamMsg]:
    """Every message stored in ``stream``, in order (read straight from JetStream)."""
    return await stored_messages(nats_url, stream)


def signed_meta(
    payload: dict[str, object], secret: str = APP_SECRET
) -> tuple[bytes, dict[str, str]]:
    body = meta.encode(payload)
    return body, {
        "X-Hub-Signature-256": meta.sign(body, secret),
        "Content-Type": "application/json",
    }


def text_webhook(
    body: str = "Hola", *, message_id: str | None = None, phone_number_id: str = PHONE_NUMBER_ID
) -> dict[str, object]:
    message = meta.inbound_message(CUSTOMER, meta.text(body), message_id=message_id)
    value = meta.messages_value(
        phone_number_id, DISPLAY_NUMBER, [meta.contact(CUSTOMER, "Ana")], [message]
    )
    return meta.webhook([value], waba_id="1318067943193449")


def signed_sci(body: bytes, secret: str = SCI_SECRET, at: int | None = None) -> dict[str, str]:
    """Headers of an SCI status callback signed the way cauce's callback contract says."""
    timestamp = int(time.time()) if at is None else at
    return {
        "Content-Type": "application/json",
        "X-SCI-Signature": sci_signature(body, secret.encode(), timestamp),
    }
