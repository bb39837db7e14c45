"""Meta's business-account webhooks (templates, messaging limits, marketing preferences)
on ``POST /webhooks/whatsapp``, against a real nats-server; and end to end from the
provider sandbox's controls, which sign and post them as Meta does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from cauce_contracts.business_account import (
    MarketingPreferenceChanged,
    MessagingLimitChanged,
    TemplateCategoryChanged,
    TemplateComponentsChanged,
    TemplateQualityChanged,
    TemplateStatusChanged,
)
from cauce_contracts.envelope import Event
from cauce_contracts.inbound import InboundMessageReceived, InboundPayloadUnrecognized
from cauce_contracts.registry import parse_event
from cauce_contracts.subjects import contact_key
from cauce_devstack.sandbox.app import create_app as create_sandbox
from cauce_devstack.sandbox.meta import webhooks as meta
from cauce_devstack.sandbox.meta.templates import template_id
from cauce_devstack.sandbox.settings import (
    DEV_DISPLAY_PHONE_NUMBER,
    DEV_PHONE_NUMBER_ID,
    DEV_WABA_ID,
    SandboxSettings,
)
from cauce_devstack.servers import NatsServer
from cauce_devstack.testing import serving
from cauce_gateway.app import create_app
from cauce_gateway.settings import ChannelAccount
from cauce_runtime import setup_telemetry

from .conftest import (
    APP_SECRET,
    CUSTOMER,
    PHONE_NUMBER_ID,
    TENANT,
    RunningGateway,
    make_settings,
    signed_meta,
    stream_messages,
    text_webhook,
)

WABA = "1318067943193449"  # text_webhook's entry id, the WABA of PHONE_NUMBER_ID
OTHER_WABA = "1318067943199999"
TIME = 1767030562


@pytest.fixture
async def gateway(nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[RunningGateway]:
    """The gateway, with its WhatsApp numbers naming their WABAs: the test number's, and
    the provider sandbox's dev number (``DEV_WABA_ID``)."""
    settings = make_settings(
        nats_server.url,
        tmp_path,
        whatsapp_accounts=[
            ChannelAccount(account_id=PHONE_NUMBER_ID, tenant_id=TENANT, business_account_id=WABA),
            ChannelAccount(
                account_id=DEV_PHONE_NUMBER_ID, tenant_id=TENANT, business_account_id=DEV_WABA_ID
            ),
        ],
    )
    telemetry = setup_telemetry(settings)
    async with serving(create_app(settings), settings.port) as url:
        yield RunningGateway(url=url, nats=nats_server, settings=settings, telemetry=telemetry)


def template_paused(waba: str = WABA, at: int = TIME) -> dict[str, Any]:
    value = meta.template_status_value(
        "PAUSED",
        "1689556908129832",
        "order_confirmation",
        "en_US",
        category="MARKETING",
        other_info=("FIRST_PAUSE", "Your WhatsApp message template has been paused."),
    )
    return meta.account_webhook("message_template_status_update", value, waba, time=at)


def mixed_delivery() -> dict[str, Any]:
    """One POST with a message and a change of each of the seven fields."""
    ref = ("1689556908129832", "order_confirmation", "en_US")
    components = [
        {"type": "HEADER", "format": "TEXT", "text": "Tu pedido"},
        {"type": "BODY", "text": "Hola {{1}}, tu pedido {{2}} va en camino."},
        {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Ver", "url": "https://x.co"}]},
    ]
    changes = [
        (
            "message_template_quality_update",
            meta.template_quality_value(*ref, new="YELLOW", previous="GREEN"),
        ),
        (
            "template_category_update",
            meta.template_category_value(*ref, new="MARKETING", previous="UTILITY"),
        ),
        ("message_template_components_update", meta.template_components_value(*ref, components)),
        ("business_capability_update", meta.business_capability_value(10000)),
        (
            "phone_number_quality_update",
            meta.phone_number_quality_value(
                "5492644710400",
                "UPGRADE",
                "TIER_10K",
                old_limit="TIER_2K",
                max_daily_conversations_per_business="TIER_10K",
            ),
        ),
    ]
    preferences = meta.user_preferences_value(
        PHONE_NUMBER_ID, "5492644710400", CUSTOMER, "stop", name="Ana", timestamp=TIME
    )
    return meta.merge_webhooks(
        text_webhook(message_id="wamid.MIXED"),
        template_paused(),
        *(meta.account_webhook(field, value, WABA, time=TIME) for field, value in changes),
        meta.account_webhook("user_preferences", preferences, WABA),
    )


async def stored_events(gateway: RunningGateway) -> list[tuple[str, str, Event]]:
    return [
        (m.subject, (m.headers or {}).get("Nats-Msg-Id", ""), parse_event(m.data))
        for m in await stream_messages(gateway.nats.url)
    ]


async def test_signature_is_checked_before_anything_is_read(gateway: RunningGateway) -> None:
    body, good = signed_meta(mixed_delivery())
    async with gateway.client() as client:
        for headers in ({}, {"X-Hub-Signature-256": meta.sign(body, "wrong-secret")}):
            response = await client.post("/webhooks/whatsapp", content=body, headers=headers)
            assert response.status_code == 401
            assert response.headers["content-type"] == "application/problem+json"
        # a body that is not even JSON is refused on its signature, not parsed
        garbage = await client.post("/webhooks/whatsapp", content=b"{not json", headers=good)
        assert garbage.status_code == 401
    assert await stream_messages(gateway.nats.url) == []


async def test_mixed_delivery_publishes_each_event_once(gateway: RunningGateway) -> None:
    body, headers = signed_meta(mixed_delivery())
    async with gateway.client() as client:
        first = await client.post("/webhooks/whatsapp", content=body, headers=headers)
        # Answered only once every event is durable: they are all there right away.
        stored = await stored_events(gateway)
        again = await client.post("/webhooks/whatsapp", content=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json() == {"status": "accepted", "events": 8}
    assert [type(event) for _, _, event in stored] == [
        InboundMessageReceived,
        TemplateStatusChanged,
        TemplateQualityChanged,
        TemplateCategoryChanged,
        TemplateComponentsChanged,
        MessagingLimitChanged,
        MessagingLimitChanged,
        MarketingPreferenceChanged,
    ]
    assert {event.tenant_id for _, _, event in stored} == {TENANT}
    assert len({msg_id for _, msg_id, _ in stored}) == 8
    assert len(await stored_events(gateway)) == 8  # the redelivery added nothing

    key = contact_key(CUSTOMER, gateway.settings.contact_key_secret.get_secret_value().encode())
    subjects = [subject for subject, _, _ in stored[1:]]
    assert subjects == [
        f"inbound.template.status_changed.{TENANT}.whatsapp.{WABA}",
        f"inbound.template.quality_changed.{TENANT}.whatsapp.{WABA}",
        f"inbound.template.category_changed.{TENANT}.whatsapp.{WABA}",
        f"inbound.template.components_changed.{TENANT}.whatsapp.{WABA}",
        f"inbound.account.messaging_limit_changed.{TENANT}.whatsapp.{WABA}",
        f"inbound.account.messaging_limit_changed.{TENANT}.whatsapp.{WABA}",
        f"inbound.contact.marketing_preference_changed.{TENANT}.whatsapp.{key}",
    ]
    status = stored[1][2]
    assert isinstance(status, TemplateStatusChanged)
    assert (status.template.name, status.status) == ("order_confirmation", "PAUSED")
    assert stored[1][1] == (
        f"whatsapp:message_template_status_update:{WABA}:1689556908129832:PAUSED:{TIME}"
    )
    business, number = (event for _, _, event in stored[5:7])
    assert isinstance(business, MessagingLimitChanged)
    assert isinstance(number, MessagingLimitChanged)
    assert (business.scope, business.tier, business.limit) == ("business", "TIER_10K", 10000)
    assert (number.scope, number.quality_event) == ("phone_number", "UPGRADE")
    preference = stored[7][2]
    assert isinstance(preference, MarketingPreferenceChanged)
    assert (preference.preference, preference.contact_key) == ("stop", key)
    assert CUSTOMER not in stored[7][0] + stored[7][1]


async def test_unknown_waba_and_malformed_changes_are_kept_as_unrecognized(
    gateway: RunningGateway,
) -> None:
    broken = template_paused()
    del broken["entry"][0]["changes"][0]["value"]["message_template_name"]
    body, headers = signed_meta(meta.merge_webhooks(template_paused(OTHER_WABA), broken))
    async with gateway.client() as client:
        response = await client.post("/webhooks/whatsapp", content=body, headers=headers)
    assert response.json() == {"status": "accepted", "events": 2}
    unknown, malformed = (event for _, _, event in await stored_events(gateway))
    assert isinstance(unknown, InboundPayloadUnrecognized)
    assert (unknown.tenant_id, unknown.reason) == ("unassigned", "unknown channel account")
    assert unknown.channel_account_id == OTHER_WABA
    assert isinstance(malformed, InboundPayloadUnrecognized)
    assert malformed.tenant_id == TENANT
    assert malformed.reason == (
        "entry[1].changes[0]: value.message_template_name is missing or not a string"
    )


async def test_bus_down_gives_503_and_the_change_lands_once_it_is_back(
    gateway: RunningGateway,
) -> None:
    body, headers = signed_meta(template_paused())
    async with gateway.client() as client:
        gateway.nats.stop()
        down = await client.post("/webhooks/whatsapp", content=body, headers=headers)
        assert down.status_code == 503
        assert down.headers["retry-after"] == "7"
        gateway.nats.start()
        for _ in range(100):
            retry = await client.post("/webhooks/whatsapp", content=body, headers=headers)
            if retry.status_code == 200:
                break
            assert retry.status_code == 503
            await asyncio.sleep(0.1)
    assert retry.status_code == 200
    [(subject, _, event)] = await stored_events(gateway)
    assert isinstance(event, TemplateStatusChanged)
    assert subject == f"inbound.template.status_changed.{TENANT}.whatsapp.{WABA}"


# --- end to end from the provider sandbox ---------------------------------------------


@pytest.fixture
async def sandbox(gateway: RunningGateway) -> AsyncIterator[httpx.AsyncClient]:
    """The provider sandbox, posting Meta's webhooks to the running gateway."""
    settings = SandboxSettings(
        gateway_url=gateway.url,
        app_secret=SecretStr(APP_SECRET),
        status_callbacks_enabled=False,
        service_window_enforced=False,
    )
    async with (
        serving(create_sandbox(settings)) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as client,
    ):
        yield client


async def test_sandbox_template_pause_lands_as_the_tenants_status_change(
    gateway: RunningGateway, sandbox: httpx.AsyncClient
) -> None:
    response = await sandbox.post(
        "/sandbox/meta/templates/bienvenida/es", json={"status": "PAUSED"}
    )
    assert response.status_code == 200, response.text
    (posted,) = response.json()["webhooks"]
    assert (posted["delivered"], posted["gateway_status"]) == (True, 200)

    [(subject, _, event)] = await stored_events(gateway)
    assert subject == f"inbound.template.status_changed.{TENANT}.whatsapp.{DEV_WABA_ID}"
    assert isinstance(event, TemplateStatusChanged)
    assert event.tenant_id == TENANT
    assert event.business_account_id == DEV_WABA_ID
    assert event.template.name == "bienvenida"
    assert event.template.language == "es"
    assert event.template.template_id == template_id("bienvenida", "es")
    assert (event.status, event.reason) == ("PAUSED", "NONE")
    assert event.detail == "FIRST_PAUSE: Your WhatsApp message template has been paused."


async def test_sandbox_messaging_limit_lands_for_the_business_and_the_number(
    gateway: RunningGateway, sandbox: httpx.AsyncClient
) -> None:
    response = await sandbox.post("/sandbox/meta/messaging-limit", json={"limit": 2000})
    assert response.status_code == 200, response.text
    assert {w["gateway_status"] for w in response.json()["webhooks"]} == {200}

    stored = await stored_events(gateway)
    events = [event for _, _, event in stored]
    assert all(isinstance(event, MessagingLimitChanged) for event in events)
    limits = {(e.scope, e.account_id, e.tier, e.limit) for e in events}  # type: ignore[attr-defined]
    assert limits == {
        ("business", DEV_WABA_ID, "TIER_2K", 2000),
        ("phone_number", DEV_WABA_ID, "TIER_2K", 2000),
    }
    assert {event.tenant_id for event in events} == {TENANT}
    assert any(DEV_DISPLAY_PHONE_NUMBER in msg_id for _, msg_id, _ in stored)


async def test_sandbox_customer_preference_lands_with_the_contact_key(
    gateway: RunningGateway, sandbox: httpx.AsyncClient
) -> None:
    response = await sandbox.post(
        "/sandbox/customer/preferences", json={"from": CUSTOMER, "value": "stop"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["gateway_status"] == 200

    [(subject, _, event)] = await stored_events(gateway)
    key = contact_key(CUSTOMER, gateway.settings.contact_key_secret.get_secret_value().encode())
    assert subject == f"inbound.contact.marketing_preference_changed.{TENANT}.whatsapp.{key}"
    assert isinstance(event, MarketingPreferenceChanged)
    assert event.channel_account_id == DEV_PHONE_NUMBER_ID
    assert event.contact.address == CUSTOMER
    assert (event.preference, event.category) == ("stop", "marketing_messages")
