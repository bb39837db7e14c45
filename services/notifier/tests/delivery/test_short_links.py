"""Short links: a campaign's URL variables and a reply's URL button go out as links the
notifier serves, which redirect to the original and count a recipient's click once
(link previews are not clicks); no phone number is in any of them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from cauce_contracts.outbound import CtaUrlContent
from cauce_devstack.servers import NatsServer, free_port

from .conftest import Stack, running_stack
from .test_campaigns import api, campaign_settings, new_campaign, stats, until_status, upload

PAY = "https://pagos.example.com/factura/{n}?ref=camp"
CSV = (
    "Recipient-Phone-Number,variable_1,variable_2\n"
    f"+573001234567,Juan,{PAY.format(n=1)}\n"
    f"+573001234568,María,{PAY.format(n=2)}\n"
)


@contextlib.asynccontextmanager
async def linking_stack(
    nats_server: NatsServer, database_url: str, tmp_path: Path, **overrides: object
) -> AsyncIterator[Stack]:
    port = free_port()
    async with running_stack(
        nats_server,
        database_url,
        tmp_path,
        **campaign_settings(),
        port=port,
        short_link_base_url=f"http://127.0.0.1:{port}",
        **overrides,
    ) as stack:
        synced = await api(stack, "POST", "/api/v1/templates/sync")
        assert synced.status_code == 200, synced.text
        yield stack


@pytest.fixture
async def stack(nats_server: NatsServer, database_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    async with linking_stack(nats_server, database_url, tmp_path) as running:
        yield running


async def open_link(stack: Stack, url: str, agent: str = "Mozilla/5.0") -> httpx.Response:
    return await stack.http.get(url, headers={"User-Agent": agent}, follow_redirects=False)


async def test_a_recipient_who_clicks_twice_counts_once_and_previews_not_at_all(
    stack: Stack,
) -> None:
    campaign_id = await new_campaign(stack, short_links=True)
    assert (await upload(stack, campaign_id, CSV)).json()["accepted"] == 2
    started = await api(stack, "POST", f"/api/v1/campaigns/{campaign_id}/start")
    assert started.status_code == 200, started.text
    await until_status(stack, campaign_id, "COMPLETED")

    sent = {
        e["payload"]["to"]: e["payload"]["template"]["components"][0]["parameters"][1]["text"]
        for e in await stack.outbox()
        if e["payload"].get("type") == "template"
    }
    juan, maria = sent["+573001234567"], sent["+573001234568"]
    for link in (juan, maria):
        assert link.startswith(f"{stack.notifier_url}/l/") and "3001234" not in link
    assert juan != maria

    first = await open_link(stack, juan)
    assert first.status_code == 302 and first.headers["location"] == PAY.format(n=1)
    assert first.headers["cache-control"] == "no-store"
    assert (await open_link(stack, juan)).status_code == 302
    # WhatsApp draws María's preview: redirected, not a click
    preview = await open_link(stack, maria, agent="WhatsApp/2.24.8.85 A")
    assert preview.status_code == 302 and preview.headers["location"] == PAY.format(n=2)
    assert (await stack.http.head(maria)).status_code == 302

    counts = await stats(stack, campaign_id)
    assert counts["clicked"] == 1
    # the recipients' list keeps what the operator planned, the full URL
    listed = await api(stack, "GET", f"/api/v1/campaigns/{campaign_id}/recipients")
    assert [r["variables"][1] for r in listed.json()["items"]] == [
        PAY.format(n=1),
        PAY.format(n=2),
    ]


async def test_unknown_or_malformed_codes_are_404_problems(stack: Stack) -> None:
    for code in ("AAAAAAAAAAAA", "short", "../../etc/passwd", "%00" * 12):
        answer = await open_link(stack, f"{stack.notifier_url}/l/{code}")
        assert answer.status_code == 404, code
        assert answer.headers["content-type"].startswith("application/problem+json")


async def test_a_campaign_cannot_ask_for_short_links_when_none_are_configured(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    async with running_stack(nats_server, database_url, tmp_path, **campaign_settings()) as plain:
        body = {
            "name": "Pagos",
            "template_name": "pago_confirmado",
            "template_language": "es",
            "short_links": True,
        }
        refused = await api(plain, "POST", "/api/v1/campaigns", json=body)
        assert refused.status_code == 422
        assert "CAUCE_SHORT_LINK_BASE_URL" in refused.json()["detail"]


async def test_the_bots_payment_button_goes_as_a_short_link_when_asked(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    async with linking_stack(
        nats_server, database_url, tmp_path, short_links_in_replies=True
    ) as stack:
        await stack.customer_wrote()
        target = "https://sci.example.com/pay/8f2c?amount=125000"
        button = CtaUrlContent(body="Tu deuda: $125.000", display_text="Pagar", url=target)
        await stack.request(button)

        async def sent_button() -> str | None:
            for entry in await stack.outbox():
                if entry["payload"].get("type") == "interactive":
                    url: str = entry["payload"]["interactive"]["action"]["parameters"]["url"]
                    return url
            return None

        await stack.wait_for(sent_button, what="the button to be sent")
        link = await sent_button()
        assert link is not None and link.startswith(f"{stack.notifier_url}/l/")
        opened = await open_link(stack, link)
        assert opened.status_code == 302 and opened.headers["location"] == target
