"""Meta turns down a template mid-campaign, and the campaign pauses with Meta's reason:
end to end through the gateway. The sandbox (Graph fake), the gateway and the notifier
run as real servers in this process on real NATS and PostgreSQL; Meta's
``message_template_status_update`` reaches the gateway as Meta sends it (a signed POST
to ``/webhooks/whatsapp``), becomes ``inbound.template.status_changed`` on JetStream,
and the notifier, following it, pauses the running campaign that sends the template.

- REJECTED: posted by the test as Meta would (the Graph fake still accepts the
  template, so nothing but the webhook can pause the campaign).
- PAUSED: through the sandbox's template control, which changes the template at the
  fake (sends of it are refused 132015 from then on) and posts Meta's webhook itself.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from cauce_devstack.minted_tokens import TokenMinter
from cauce_devstack.sandbox.app import create_app as create_sandbox
from cauce_devstack.sandbox.meta import webhooks as meta
from cauce_devstack.sandbox.meta.templates import template_id
from cauce_devstack.sandbox.settings import (
    DEV_GRAPH_TOKEN,
    DEV_PHONE_NUMBER_ID,
    DEV_WABA_ID,
    SandboxSettings,
)
from cauce_devstack.servers import NatsServer, free_port
from cauce_devstack.testing import eventually, service_test_values, serving
from cauce_gateway.app import create_app as create_gateway
from cauce_gateway.settings import ChannelAccount, GatewaySettings
from cauce_notifier.app import create_app as create_notifier
from cauce_notifier.settings import DeclaredAccount, NotifierSettings

TENANT = "acme"
MINTER = TokenMinter()
APP_SECRET = "app-secret-of-the-campaign-webhook-tests"
CONTACT_SECRET = "contact-key-secret-for-campaign-webhook-tests"
TEMPLATE, LANGUAGE = "pago_confirmado", "es"
RECIPIENTS = 100
RATE_PER_SECOND = 10
#: A pause holds within a second once the notifier has it (README).
HOLDS_WITHIN_S = 1.0
PAUSE_DETAIL = "Your template has been paused due to low quality."


@dataclass
class Stack:
    sandbox_url: str
    gateway_url: str
    notifier_url: str
    http: httpx.AsyncClient

    async def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.http.request(
            method,
            f"{self.notifier_url}/api/v1{path}",
            headers=MINTER.headers(TENANT),
            **kwargs,
        )

    async def campaign(self) -> str:
        body = {"name": "Pagos", "template_name": TEMPLATE, "template_language": LANGUAGE}
        campaign_id: str = (await self.api("POST", "/campaigns", json=body)).json()["id"]
        rows = [f"+5730016{i:05d},Cliente {i},${i}" for i in range(RECIPIENTS)]
        csv = "Recipient-Phone-Number,variable_1,variable_2\n" + "\n".join(rows) + "\n"
        files = {"file": ("r.csv", csv.encode(), "text/csv")}
        loaded = await self.api("POST", f"/campaigns/{campaign_id}/upload-recipients", files=files)
        assert loaded.json()["accepted"] == RECIPIENTS
        started = await self.api("POST", f"/campaigns/{campaign_id}/start")
        assert started.json()["status"] == "RUNNING", started.text
        return campaign_id

    async def sends(self) -> list[tuple[str, float]]:
        """``(to, epoch seconds)`` of every template send the Graph fake accepted."""
        entries = (
            await self.http.get(f"{self.sandbox_url}/sandbox/outbox", params={"provider": "graph"})
        ).json()
        return [
            (e["to"], datetime.fromisoformat(e["received_at"]).timestamp())
            for e in entries
            if e["kind"] == "message" and e["type"] == "template"
        ]

    async def until_sent(self, count: int) -> None:
        async def enough() -> bool:
            return len(await self.sends()) >= count

        await eventually(enough, 20, f"{count} sends", poll_s=0.05)

    async def stats(self, campaign_id: str) -> dict[str, Any]:
        body: dict[str, Any] = (await self.api("GET", f"/campaigns/{campaign_id}/stats")).json()
        return body

    async def stats_once_recorded(self, campaign_id: str, sent: int) -> dict[str, Any]:
        """The campaign's stats once ``sent`` sends are recorded: a send the fake took
        as the campaign paused is recorded when its answer is back, a moment later."""

        async def recorded() -> bool:
            return (await self.stats(campaign_id))["sent"] >= sent

        await eventually(recorded, 10, f"{sent} sends to be recorded", poll_s=0.05)
        return await self.stats(campaign_id)

    async def until_paused(self, campaign_id: str) -> dict[str, Any]:
        """The campaign, once paused; the wall-clock time it was seen paused."""

        async def paused() -> bool:
            return (await self.stats(campaign_id))["status"] == "PAUSED"

        await eventually(paused, 15, "the campaign to pause", poll_s=0.05)
        seen_at = time.time()
        campaign: dict[str, Any] = (await self.api("GET", f"/campaigns/{campaign_id}")).json()
        return {**campaign, "seen_paused_at": seen_at}


@pytest.fixture
async def stack(nats_server: NatsServer, database_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    common = {**service_test_values(nats_server.url, tmp_path)}
    gateway = GatewaySettings(
        **common,
        port=free_port(),
        contact_key_secret=SecretStr(CONTACT_SECRET),
        meta_app_secrets=[SecretStr(APP_SECRET)],
        whatsapp_accounts=[
            ChannelAccount(
                account_id=DEV_PHONE_NUMBER_ID, tenant_id=TENANT, business_account_id=DEV_WABA_ID
            )
        ],
    )
    sandbox = SandboxSettings(
        port=free_port(),
        gateway_url=f"http://127.0.0.1:{gateway.port}",
        app_secret=SecretStr(APP_SECRET),
        access_log=False,
        status_callbacks_enabled=False,
        service_window_enforced=False,
        graph_rate_limit_per_second=1000,
    )
    async with (
        serving(create_gateway(gateway), gateway.port) as gateway_url,
        serving(create_sandbox(sandbox), sandbox.port) as sandbox_url,
        contextlib.AsyncExitStack() as services,
    ):
        notifier = NotifierSettings(
            **common,
            port=free_port(),
            postgres_url=database_url,
            contact_key_secret=SecretStr(CONTACT_SECRET),
            graph_base_url=f"{sandbox_url}/graph",
            accounts=[
                DeclaredAccount(
                    tenant_id=TENANT,
                    channel="whatsapp",  # type: ignore[arg-type]
                    account_id=DEV_PHONE_NUMBER_ID,
                    business_account_id=DEV_WABA_ID,
                    rate_per_second=RATE_PER_SECOND,
                    credentials={"access_token": SecretStr(DEV_GRAPH_TOKEN)},
                )
            ],
            identity_public_keys=MINTER.jwks,
            campaign_tick_s=0.05,
            template_sync_interval_s=0,
        )
        notifier_url = await services.enter_async_context(
            serving(create_notifier(notifier), notifier.port)
        )
        async with httpx.AsyncClient(timeout=10) as http:
            running = Stack(sandbox_url, gateway_url, notifier_url, http)
            synced = await running.api("POST", "/templates/sync")
            assert synced.status_code == 200, synced.text
            yield running


def signed(payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    body = meta.encode(payload)
    return body, {
        "Content-Type": "application/json",
        meta.SIGNATURE_HEADER: meta.sign(body, APP_SECRET),
    }


async def test_a_template_meta_rejects_mid_campaign_pauses_it_with_metas_reason(
    stack: Stack,
) -> None:
    campaign_id = await stack.campaign()
    await stack.until_sent(10)

    rejection = "The template's body has a variable at its end."
    recommendation = "Add text after the last variable."
    value = meta.template_status_value(
        "REJECTED",
        template_id(TEMPLATE, LANGUAGE),
        TEMPLATE,
        LANGUAGE,
        category="UTILITY",
        reason="INVALID_FORMAT",
        rejection_info=(rejection, recommendation),
    )
    body, headers = signed(
        meta.account_webhook("message_template_status_update", value, DEV_WABA_ID)
    )
    posted = await stack.http.post(
        f"{stack.gateway_url}/webhooks/whatsapp", content=body, headers=headers
    )
    assert posted.status_code == 200, posted.text
    assert posted.json() == {"status": "accepted", "events": 1}

    campaign = await stack.until_paused(campaign_id)
    assert campaign["status_by"] == "platform"
    reason = campaign["status_reason"]
    assert reason == (
        f"template {TEMPLATE} ({LANGUAGE}) is REJECTED: INVALID_FORMAT: {rejection}"
        f" Recommendation: {recommendation}"
    )
    (template,) = (await stack.api("GET", f"/templates/{TEMPLATE}")).json()
    assert template["status"] == "REJECTED"

    # it stays paused: nothing more goes out, the rest wait, nobody got two
    late = [at for _, at in await stack.sends() if at > campaign["seen_paused_at"] + HOLDS_WITHIN_S]
    assert late == []
    sent = Counter(to for to, _ in await stack.sends())
    assert set(sent.values()) == {1} and len(sent) < RECIPIENTS
    counts = await stack.stats_once_recorded(campaign_id, len(sent))
    assert counts["sent"] == len(sent)
    assert counts["pending"] + counts["queued"] == RECIPIENTS - len(sent)
    # resumed while the template is still rejected, the dispatcher pauses it again, in
    # the same words (it pauses first whenever it reads the catalog between the
    # webhook's update and the webhook's own pause)
    assert (await stack.api("POST", f"/campaigns/{campaign_id}/resume")).status_code == 200
    again = await stack.until_paused(campaign_id)
    assert again["status_reason"] == reason


async def test_a_template_paused_at_meta_pauses_the_campaign_through_the_gateway(
    stack: Stack,
) -> None:
    campaign_id = await stack.campaign()
    await stack.until_sent(10)

    changed = await stack.http.post(
        f"{stack.sandbox_url}/sandbox/meta/templates/{TEMPLATE}/{LANGUAGE}",
        json={"status": "PAUSED", "title": "FIRST_PAUSE", "detail": PAUSE_DETAIL},
    )
    assert changed.status_code == 200, changed.text
    (webhook,) = changed.json()["webhooks"]
    assert webhook["field"] == "message_template_status_update"
    assert (webhook["delivered"], webhook["gateway_status"]) == (True, 200)

    campaign = await stack.until_paused(campaign_id)
    assert campaign["status_by"] == "platform"
    assert campaign["status_reason"] == (
        f"template {TEMPLATE} ({LANGUAGE}) is PAUSED: FIRST_PAUSE: {PAUSE_DETAIL}"
    )
    # sends that reached Meta between its pause and the campaign's failed 132015 for
    # good; the rest wait, nobody got two
    sent = Counter(to for to, _ in await stack.sends())
    counts = await stack.stats_once_recorded(campaign_id, len(sent))
    failed = {f["code"]: f["count"] for f in counts["failed_by_code"]}
    assert set(failed) <= {"132015"}
    assert set(sent.values()) == {1}
    assert counts["sent"] == len(sent)
    assert counts["sent"] + counts["failed"] + counts["pending"] + counts["queued"] == RECIPIENTS
    assert counts["pending"] > 0
