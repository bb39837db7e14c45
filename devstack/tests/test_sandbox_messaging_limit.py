"""The business portfolio's messaging limit in the fake Graph API: unique customers
reached with templates outside their window in a moving 24 h, sends beyond the limit
recorded (never refused), and the webhooks Meta sends when the limit changes."""

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from cauce_devstack.sandbox.app import create_app
from cauce_devstack.sandbox.bootstrap import Sandbox
from cauce_devstack.sandbox.meta.messaging_limits import MOVING_WINDOW_S, MessagingLimits
from cauce_devstack.sandbox.meta.templates import DEFAULT_TEMPLATES
from cauce_devstack.sandbox.settings import DEV_BUSINESS_ID, DEV_WABA_ID, SandboxSettings
from cauce_runtime import wiring_of

PNID = "111111111111111"
OTHER_PNID = "222222222222222"
TOKEN = "token-for-111"
OTHER_TOKEN = "token-for-222"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
OTHER_AUTH = {"Authorization": f"Bearer {OTHER_TOKEN}"}
OTHER_WABA = "200000000000002"
LIMITS = "/sandbox/meta/messaging-limit"


@contextlib.asynccontextmanager
async def sandbox(
    gateway_url: str = "http://127.0.0.1:9", **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    values: dict[str, Any] = {
        "graph_tokens": {PNID: SecretStr(TOKEN), OTHER_PNID: SecretStr(OTHER_TOKEN)},
        "default_phone_number_id": PNID,
        "gateway_url": gateway_url,
        "status_callbacks_enabled": False,
        "graph_rate_limit_enforced": False,
    }
    values.update(overrides)
    app = create_app(SandboxSettings(**values))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            yield client
    finally:
        await wiring_of(app, Sandbox).gateway_client.aclose()


def customer(n: int) -> str:
    return f"57300{n:07d}"


def promo(to: str) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "to": to,
        "type": "template",
        "template": {
            "name": "bienvenida",
            "language": {"code": "es"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}],
        },
    }


async def portfolio(client: httpx.AsyncClient, business_id: str = DEV_BUSINESS_ID) -> Any:
    response = await client.get(LIMITS)
    assert response.status_code == 200, response.text
    return response.json()["businesses"][business_id]


async def send(client: httpx.AsyncClient, to: str, pnid: str = PNID) -> None:
    auth = AUTH if pnid == PNID else OTHER_AUTH
    response = await client.post(f"/graph/v23.0/{pnid}/messages", json=promo(to), headers=auth)
    assert response.status_code == 200, response.text


async def test_unlimited_by_default_and_counts_unique_customers_outside_the_window() -> None:
    async with sandbox() as client:
        for n in (1, 2, 3, 1):
            await send(client, customer(n))
        await client.post("/sandbox/window", json={"wa_id": customer(4)})
        await send(client, customer(4))  # inside their window: not business-initiated
        shown = await portfolio(client)
    assert shown == {
        "limit": None,
        "tier": "TIER_UNLIMITED",
        "unique_customers_24h": 3,
        "max_unique_customers_24h": 3,
        "templates_outside_window": 4,
        "over_limit": 0,
        "over_limit_sends": [],
    }


async def test_sends_beyond_the_limit_are_accepted_and_recorded() -> None:
    split = {  # the same portfolio, another WABA with the same templates
        "phone_number_wabas": {OTHER_PNID: OTHER_WABA},
        "graph_waba_templates": {OTHER_WABA: list(DEFAULT_TEMPLATES)},
    }
    async with sandbox(messaging_limit=50, **split) as client:
        for n in range(1, 51):
            await send(client, customer(n), PNID if n % 2 else OTHER_PNID)
        assert (await portfolio(client))["over_limit"] == 0
        await send(client, customer(7))  # already reached: not one more customer
        await send(client, customer(51), OTHER_PNID)
        await send(client, customer(52))
        shown = await portfolio(client)
        assert (await client.delete(LIMITS)).json() == {"deleted": 1}
        assert (await portfolio(client))["unique_customers_24h"] == 0
    assert shown["limit"] == 50 and shown["tier"] == "TIER_50"
    assert shown["unique_customers_24h"] == 52 == shown["max_unique_customers_24h"]
    assert shown["over_limit"] == 2
    over = shown["over_limit_sends"]
    assert [(o["wa_id"], o["phone_number_id"]) for o in over] == [
        (customer(51), OTHER_PNID),
        (customer(52), PNID),
    ]
    assert [o["unique_customers"] for o in over] == [51, 52]
    assert all(o["template"] == "bienvenida" and o["limit"] == 50 for o in over)


def test_the_24_hours_move() -> None:
    limits = MessagingLimits(50)
    t0 = 1_800_000_000.0
    for n in range(50):
        assert limits.record("b", PNID, customer(n), "t", now=t0 + n) is None
    assert limits.record("b", PNID, customer(99), "t", now=t0 + 100) is not None
    later = t0 + MOVING_WINDOW_S + 50  # the first 50 have left the window
    assert limits.record("b", PNID, customer(100), "t", now=later) is None
    shown = limits.metrics(["b"], now=later)["b"]
    assert shown.unique_customers_24h == 2  # customer 99 (at t0+100) and 100
    assert shown.max_unique_customers_24h == 51 and shown.over_limit == 1


def test_a_customer_reached_again_counts_from_the_last_time() -> None:
    limits = MessagingLimits(None)
    t0 = 1_800_000_000.0
    limits.record("b", PNID, customer(0), "t", now=t0)
    limits.record("b", PNID, customer(1), "t", now=t0 + 10)
    limits.record("b", PNID, customer(0), "t", now=t0 + 20)  # reached again
    later = t0 + MOVING_WINDOW_S + 15  # customer 1 left the window; 0 did not
    assert limits.metrics(["b"], now=later)["b"].unique_customers_24h == 1


def test_only_metas_tiers_are_limits() -> None:
    with pytest.raises(ValidationError):
        SandboxSettings(messaging_limit=300)
    assert SandboxSettings(messaging_limit=2000).messaging_limit == 2000
    assert SandboxSettings(messaging_limit="").messaging_limit is None  # unset in .env


async def test_changing_the_limit_posts_metas_webhooks(meta_gateway: Any) -> None:
    async with sandbox(
        meta_gateway.url,
        app_secret=SecretStr(meta_gateway.secret),
        messaging_limit=250,
        phone_number_wabas={OTHER_PNID: OTHER_WABA},
    ) as client:
        response = await client.post(LIMITS, json={"limit": 2000})
        assert response.status_code == 200, response.text
        result = response.json()
        assert (result["previous_limit"], result["limit"]) == (250, 2000)
        assert all(w["delivered"] for w in result["webhooks"])
        assert (await portfolio(client))["limit"] == 2000

        capability = meta_gateway.changes("business_capability_update")
        assert sorted(c["_entry_id"] for c in capability) == sorted([DEV_WABA_ID, OTHER_WABA])
        assert capability[0]["value"] == {
            "max_daily_conversations_per_business": 2000,
            "max_phone_numbers_per_business": 20,
            "max_phone_numbers_per_waba": 20,
        }
        assert all(isinstance(c["_entry_time"], int) for c in capability)
        quality = meta_gateway.changes("phone_number_quality_update")
        assert {(q["_entry_id"], q["value"]["display_phone_number"]) for q in quality} == {
            (DEV_WABA_ID, "15550000001"),
            (OTHER_WABA, OTHER_PNID),
        }
        assert quality[0]["value"] == {
            "display_phone_number": "15550000001",
            "event": "UPGRADE",
            "old_limit": "TIER_250",
            "current_limit": "TIER_2K",
            "max_daily_conversations_per_business": "TIER_2K",
        }

        unlimited = await client.post(
            LIMITS, json={"limit": None, "webhooks": ["business_capability_update"]}
        )
        (posted,) = [
            w for w in unlimited.json()["webhooks"] if w["payload"]["entry"][0]["id"] == DEV_WABA_ID
        ]
        value = posted["payload"]["entry"][0]["changes"][0]["value"]
        assert value["max_daily_conversations_per_business"] == -1

        down = await client.post(
            LIMITS, json={"limit": 250, "webhooks": ["phone_number_quality_update"]}
        )
        values = [w["payload"]["entry"][0]["changes"][0]["value"] for w in down.json()["webhooks"]]
        assert {v["event"] for v in values} == {"DOWNGRADE"}
        assert {v["old_limit"] for v in values} == {"TIER_UNLIMITED"}

        flagged = await client.post(
            LIMITS, json={"limit": 250, "event": "flagged", "notify": False}
        )
        assert {w["posted"] for w in flagged.json()["webhooks"]} == {False}
        assert {
            w["payload"]["entry"][0]["changes"][0]["value"]["event"]
            for w in flagged.json()["webhooks"]
            if w["field"] == "phone_number_quality_update"
        } == {"FLAGGED"}


async def test_bad_limit_changes_are_refused() -> None:
    async with sandbox() as client:
        assert (await client.post(LIMITS, json={"limit": 300})).status_code == 422
        assert (await client.post(LIMITS, json={})).status_code == 422
        unknown = await client.post(LIMITS, json={"limit": 250, "business_id": "999"})
        assert unknown.status_code == 404
