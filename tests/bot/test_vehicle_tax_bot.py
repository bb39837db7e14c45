"""The vehicle-tax assistant end to end: a customer on the sandbox's phone, every
service real, SCI TOTAL and the Graph API faked over HTTP by the sandbox."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats

from cauce_contracts import streams
from cauce_devstack.demo.transcript import BotMessage
from cauce_devstack.sandbox.sci.status_webhook import SIGNATURE_HEADER, sign_webhook
from cauce_devstack.sandbox.settings import DEV_SCI_WEBHOOK_SECRET
from cauce_devstack.servers import NatsServer
from cauce_devstack.servers.postgres import PostgresServer
from cauce_devstack.testing import eventually

from .conftest import TENANT, BotStack, bot_stack, settled

ONE_VIGENCIA = "HHO137"  # the seed's plate: 2025, $ 954.688
NO_DEBT = "XYZ987"


def said(messages: list[BotMessage], fragment: str) -> bool:
    return any(fragment.lower() in message.text.lower() for message in messages)


def has_options(messages: list[BotMessage]) -> bool:
    return any(message.options for message in messages)


def has_link(messages: list[BotMessage]) -> bool:
    return any(message.link for message in messages)


async def test_happy_path_hola_plate_debt_choose_link_pay_confirmation(stack: BotStack) -> None:
    customer = stack.customer()
    await customer.say("Hola")
    await customer.replies_until(lambda m: said(m, "placa"), "greeting")

    await customer.say("mi placa es hho 137")
    shown = await customer.replies_until(has_options, "debt and options")
    assert said(shown, "$ 954.688")
    assert said(shown, "01/09/2025")  # fecha límite, dd/mm/aaaa
    pay = next(o for m in shown for o in m.options if o[1].startswith("Pagar"))

    await customer.tap(*pay)
    linked = await customer.replies_until(has_link, "payment link")
    link = next(m.link for m in linked if m.link)
    assert link[0] == "Pagar ahora"
    assert "/sci/pay/" in link[1]

    await customer.pay(link[1])
    confirmed = await customer.replies_until(lambda m: said(m, "pago confirmado"), "confirmation")
    assert said(confirmed, "$ 954.688")
    assert len(await stack.sci_transactions()) == 1

    # the agent's inbox shows the conversation and its whole history, in order
    listing = (await stack.inbox("GET", "/conversations", params={"tenant": TENANT})).json()
    [item] = listing["items"]
    assert customer.phone not in str(item)  # masked
    messages = (await stack.inbox("GET", f"/conversations/{item['id']}/messages")).json()
    texts = [(m["direction"], m["text"]) for m in messages["items"]]
    assert texts[0] == ("inbound", "Hola")
    assert ("inbound", "mi placa es hho 137") in texts
    assert [d for d, _ in texts].count("outbound") >= 4


async def test_an_invalid_plate_gets_a_hint_and_no_lookup(stack: BotStack) -> None:
    customer = stack.customer()
    await customer.say("Hola")
    await customer.replies_until(lambda m: said(m, "placa"), "greeting")
    await customer.say("mi placa es 12345")
    hint = await customer.replies_until(lambda m: said(m, "ABC12D"), "plate hint")
    assert said(hint, "ABC123")
    await settled(stack)
    sci = (await stack.sandbox("GET", "/sandbox/outbox", params={"provider": "sci"})).json()
    assert not [entry for entry in sci if "DeudaPlaca" in str(entry)]


async def test_a_plate_without_debt_is_told_so(stack: BotStack) -> None:
    customer = stack.customer()
    await customer.say(NO_DEBT)
    answer = await customer.replies_until(lambda m: len(m) >= 2, "no-debt answer")
    assert said(answer, NO_DEBT)
    assert not any(title.startswith("Pagar") for m in answer for _, title in m.options)


async def test_sci_down_then_up_tells_the_user_and_creates_one_transaction(
    stack: BotStack,
) -> None:
    customer = stack.customer()
    await customer.say(ONE_VIGENCIA)
    shown = await customer.replies_until(has_options, "debt and options")
    pay = next(o for m in shown for o in m.options if o[1].startswith("Pagar"))

    fault = await stack.sandbox(
        "POST", "/sandbox/faults", json={"target": "sci", "kind": "5xx", "count": 2, "status": 503}
    )
    assert fault.status_code in (200, 201), fault.text
    await customer.tap(*pay)
    answers = await customer.replies_until(has_link, "payment link after SCI recovered", 60)
    delayed = [m for m in answers if "no está respondiendo" in m.text]
    assert len(delayed) == 1  # told once, not at every retry
    assert answers.index(delayed[0]) < next(i for i, m in enumerate(answers) if m.link)
    assert len(await stack.sci_transactions()) == 1


async def test_a_duplicate_webhook_gets_one_reply(stack: BotStack) -> None:
    customer = stack.customer()
    for _ in range(3):
        response = await stack.http.post(
            f"{stack.sandbox_url}/sandbox/customer/send",
            json={"from": customer.phone, "text": "Hola", "message_id": "wamid.DUPLICATE1"},
        )
        assert response.json()["gateway_status"] == 200
    await customer.replies_until(lambda m: said(m, "placa"), "greeting")
    await settled(stack)
    assert await customer.replies_until(lambda _: True, "nothing") == []


async def test_asking_for_an_advisor_hands_over_until_released(stack: BotStack) -> None:
    customer = stack.customer()
    await customer.say("Hola")
    await customer.replies_until(lambda m: said(m, "placa"), "greeting")
    await customer.say("quiero hablar con un asesor")
    await customer.replies_until(lambda m: said(m, "asesor"), "handover notice")

    await customer.say("¿hola? HHO137")
    await settled(stack)
    assert await customer.replies_until(lambda _: True, "nothing") == []  # the bot is silent

    listing = (await stack.inbox("GET", "/conversations", params={"tenant": TENANT})).json()
    [item] = listing["items"]
    assert item["handed_over"] is True
    assert item["lead_state"] == "asesor"
    reply = await stack.inbox(
        "POST", f"/conversations/{item['id']}/reply", json={"text": "Hola, soy Ana", "agent": "ana"}
    )
    assert reply.status_code == 202, reply.text
    await customer.replies_until(lambda m: said(m, "soy Ana"), "the agent's reply")

    released = await stack.inbox("POST", f"/conversations/{item['id']}/release")
    assert released.status_code == 200, released.text
    await customer.say("Hola")
    await customer.replies_until(lambda m: said(m, "placa"), "greeting after release")


async def test_several_vigencias_are_shown_and_paid_together(stack: BotStack) -> None:
    customer = stack.customer()
    await customer.say("abc-123")
    shown = await customer.replies_until(has_options, "debt and options")
    for year in ("2023", "2024", "2025"):
        assert said(shown, year)
    titles = [title for message in shown for _, title in message.options]
    assert "Pagar todo" in titles
    pay_all = next(o for m in shown for o in m.options if o[1] == "Pagar todo")
    await customer.tap(*pay_all)
    await customer.replies_until(has_link, "payment link")
    [transaction] = await stack.sci_transactions()
    assert len(transaction["dispersion"]) == 3  # one line per declaración


async def test_the_bots_lead_states_reach_odoo_through_crm_sync(
    nats_server: NatsServer, postgres_server: PostgresServer, mongo_url: str, tmp_path: Path
) -> None:
    async with bot_stack(nats_server, postgres_server, mongo_url, tmp_path, crm_sync=True) as bot:
        customer = bot.customer()
        await customer.say("Hola")
        await customer.replies_until(lambda m: said(m, "placa"), "greeting")
        await customer.say(NO_DEBT)
        await customer.replies_until(lambda m: said(m, "no encontramos deudas"), "no debt")

        async def odoo(model: str) -> list[dict[str, Any]]:
            records: list[dict[str, Any]] = (
                await bot.sandbox("GET", f"/sandbox/odoo/records/{model}")
            ).json()
            return records

        async def lead_up_to_date() -> bool:
            leads = await odoo("manychat.contact")
            return bool(leads) and leads[0]["ultimo_estado"] == "sin_deuda"

        await eventually(lead_up_to_date, timeout=30)
        [lead] = await odoo("manychat.contact")
        states = await odoo("manychat.state")
        assert [s["state"] for s in states] == ["nuevo", "consulta_deuda", "sin_deuda"]
        assert {s["source"] for s in states} == {"conversation"}
        # The bot's lead is keyed by the contact key, never the phone number.
        assert {s["manychat_id"] for s in states} == {lead["manychat_id"]}
        assert customer.phone not in str(lead) and customer.phone not in str(states)


async def test_webhooks_replayed_after_the_duplicate_window_change_nothing(
    stack: BotStack,
) -> None:
    """A channel re-sending days later is past JetStream's duplicate window: the
    events are stored again, and the consumers must still see them as done."""
    customer = stack.customer()

    async def send(message_id: str, **body: Any) -> None:
        response = await stack.sandbox(
            "POST",
            "/sandbox/customer/send",
            json={"from": customer.phone, "message_id": message_id, **body},
        )
        assert response.json()["gateway_status"] == 200

    await send("wamid.LATE-HOLA", text="Hola")
    await customer.replies_until(lambda m: said(m, "placa"), "greeting")
    await send("wamid.LATE-PLATE", text=ONE_VIGENCIA)
    shown = await customer.replies_until(has_options, "debt and options")
    option_id, title = next(o for m in shown for o in m.options if o[1].startswith("Pagar"))
    tap = {"type": "button_reply", "button_reply": {"id": option_id, "title": title}}
    await send("wamid.LATE-TAP", message={"type": "interactive", "interactive": tap})
    linked = await customer.replies_until(has_link, "payment link")
    link = next(m.link for m in linked if m.link)
    await customer.pay(link[1])
    await customer.replies_until(lambda m: said(m, "pago confirmado"), "confirmation")
    [transaction] = await stack.sci_transactions()
    await settled(stack)

    stored = await _inbound_stored(stack)
    await _shorten_duplicate_windows(stack, seconds=0.5)
    await asyncio.sleep(1.5)  # every id the gateway published is now forgotten
    await send("wamid.LATE-HOLA", text="Hola")
    await send("wamid.LATE-PLATE", text=ONE_VIGENCIA)
    await send("wamid.LATE-TAP", message={"type": "interactive", "interactive": tap})
    status = await stack.http.post(f"{stack.sandbox_url}/sci/pay/{transaction['transactionId']}")
    assert status.status_code == 409  # SCI itself will not take it twice...
    assert await _resend_sci_status(stack, transaction) == 200  # ...but may re-send
    await settled(stack)

    assert await customer.replies_until(lambda _: True, "nothing", 0.5) == []
    assert len(await stack.sci_transactions()) == 1
    assert await _inbound_stored(stack) == 2 * stored  # every replay reached the consumers


async def _shorten_duplicate_windows(stack: BotStack, *, seconds: float) -> None:
    nc = await nats.connect(stack.nats.url)
    try:
        jsm = nc.jsm()
        for spec in streams.STREAMS:
            config = (await jsm.stream_info(spec.name)).config
            config.duplicate_window = seconds
            await jsm.update_stream(config)
    finally:
        await nc.close()


async def _inbound_stored(stack: BotStack) -> int:
    nc = await nats.connect(stack.nats.url)
    try:
        info = await nc.jsm().stream_info(streams.INBOUND.name)
        return int(info.state.messages)
    finally:
        await nc.close()


async def _resend_sci_status(stack: BotStack, transaction: dict[str, Any]) -> int:
    body = json.dumps(
        {
            "transactionId": transaction["transactionId"],
            "status": "APROBADA",
            "paymentReference": transaction["paymentReference"],
            "amount": transaction["valorTotal"],
            "statusDate": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        separators=(",", ":"),
    ).encode()
    response = await stack.http.post(
        f"{stack.gateway_url}/webhooks/sci",
        content=body,
        headers={
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign_webhook(DEV_SCI_WEBHOOK_SECRET, body),
        },
    )
    return response.status_code
