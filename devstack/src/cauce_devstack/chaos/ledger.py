"""After the load settles: every accepted webhook's effects, counted where a person (or
a provider) would see them. Duplicates and losses must both be 0."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import nats

from cauce_contracts.registry import parse_event
from cauce_contracts.streams import DLQ, SUBSCRIPTIONS
from cauce_devstack.chaos.journeys import (
    GREETING_MARK,
    AgentOnChat,
    BotCustomer,
    CampaignOperator,
    ChannelCustomer,
    ManyChatLead,
)
from cauce_devstack.demo.transcript import BotMessage
from cauce_runtime.bus import dead_letters as dlq


@dataclass
class Tally:
    """Effects of one flow: expected, found once, found more than once, missing."""

    flow: str
    expected: int = 0
    found: int = 0
    duplicates: int = 0
    losses: int = 0
    notes: list[str] = field(default_factory=list)

    def count(self, what: str, copies: int) -> None:
        self.expected += 1
        if copies == 0:
            self.losses += 1
            self.notes.append(f"missing: {what}")
        else:
            self.found += 1
        if copies > 1:
            self.duplicates += copies - 1
            self.notes.append(f"{copies}x: {what}")


async def settled(nats_url: str, nkey_seed: str, timeout_s: float = 180.0) -> bool:
    """Wait until every durable has nothing pending nor unacknowledged, three polls in a
    row (so "nothing more will come" is observed, not guessed)."""
    nc = await nats.connect(nats_url, nkeys_seed_str=nkey_seed)
    try:
        jsm = nc.jsm()
        deadline, quiet = time.monotonic() + timeout_s, 0
        while time.monotonic() < deadline:
            busy = 0
            for sub in SUBSCRIPTIONS:
                info = await jsm.consumer_info(sub.stream, sub.durable_name)
                busy += (info.num_pending or 0) + (info.num_ack_pending or 0)
            quiet = quiet + 1 if busy == 0 else 0
            if quiet >= 3:
                return True
            await asyncio.sleep(0.5)
        return False
    finally:
        await nc.close()


async def bot_tally(
    http: httpx.AsyncClient, sandbox_url: str, customers: list[BotCustomer]
) -> Tally:
    """Each customer's four steps read exactly once, no message twice, and one SCI
    transaction per customer who tapped "Pagar"."""
    tally = Tally("bot: customers to payment confirmation")
    for customer in customers:
        read(tally, customer.phone, await customer.doors.outbox(customer.phone))
    transactions = (await http.get(f"{sandbox_url}/sci/transactions")).json()
    tapped = [c.transaction_id for c in customers if c.transaction_id]
    created = Counter(t["transactionId"] for t in transactions)
    extra = len(transactions) - len(set(tapped))
    tally.expected += len(tapped)
    tally.found += sum(1 for t in tapped if created[t])
    if extra > 0:
        tally.duplicates += extra
        tally.notes.append(f"{extra} SCI transaction(s) nobody asked for twice")
    paid = Counter(t["transactionId"] for t in transactions if t["status"] == "APROBADA")
    unpaid = [t for t in tapped if not paid[t]]
    if unpaid:
        tally.losses += len(unpaid)
        tally.notes.append(f"{len(unpaid)} paid link(s) not approved at SCI")
    return tally


async def channel_tally(customers: list[ChannelCustomer]) -> Tally:
    """Each Chattigo and YCloud customer greeted once, through their channel."""
    tally = Tally("Chattigo and YCloud customers greeted")
    for customer in customers:
        texts = await customer.read()
        greetings = sum(1 for text in texts if GREETING_MARK in text.lower())
        tally.count(f"{customer.channel.name} {customer.phone[-4:]} greeting", greetings)
    return tally


def read(tally: Tally, phone: str, messages: list[BotMessage]) -> None:
    """What one customer read: each step once, and no other message twice."""
    who = phone[-4:]
    for step, test in BotCustomer.EXPECTED:
        tally.count(f"{who} {step}", sum(1 for m in messages if test(m)))
    others = Counter(_shown(m) for m in messages if not _a_step(m))
    for text, copies in others.items():  # a notice ("SCI is slow") told twice
        if copies > 1:
            tally.duplicates += copies - 1
            tally.notes.append(f"{copies}x to {who}: {text[:40]}")


def _a_step(message: BotMessage) -> bool:
    return any(test(message) for _, test in BotCustomer.EXPECTED)


def _shown(message: BotMessage) -> str:
    return f"{message.type}|{message.text}|{message.options}|{message.link}"


async def lead_tally(
    http: httpx.AsyncClient, sandbox_url: str, leads: list[ManyChatLead], wait_s: float = 240.0
) -> Tally:
    """One Odoo record per lead, in its newest state. crm-sync writes to Odoo at Odoo's
    rate (1 request/s) after the bus has settled, so this waits (bounded) for Odoo to
    catch up before it counts."""
    tally = Tally("ManyChat leads to Odoo")
    url = f"{sandbox_url}/sandbox/odoo/records/manychat.contact"
    deadline = time.monotonic() + wait_s
    while True:
        records = (await http.get(url)).json()
        newest = {r.get("manychat_id"): str(r.get("ultimo_estado", "")).lower() for r in records}
        caught_up = all(newest.get(lead.manychat_id) == lead.newest_state.lower() for lead in leads)
        if caught_up or time.monotonic() > deadline:
            break
        await asyncio.sleep(1)
    for lead in leads:
        mine = [r for r in records if r.get("manychat_id") == lead.manychat_id]
        tally.count(f"lead {lead.manychat_id}", len(mine))
        if mine and str(mine[0].get("ultimo_estado", "")).lower() != lead.newest_state.lower():
            tally.losses += 1
            tally.notes.append(f"lead {lead.manychat_id} left at {mine[0].get('ultimo_estado')}")
    return tally


async def campaign_tally(operators: list[CampaignOperator]) -> Tally:
    """One template message per recipient of each campaign."""
    tally = Tally("campaign: one send per recipient")
    for operator in operators:
        for phone in operator.recipients:
            messages = await operator.doors.outbox(phone)
            sent = sum(1 for m in messages if m.text == f"[plantilla {operator.template}]")
            tally.count(f"campaign send to {phone[-4:]}", sent)
    return tally


async def agent_tally(chats: list[AgentOnChat]) -> Tally:
    """Each agent reply read once by its customer, and no other message twice."""
    tally = Tally("agents' replies")
    for chat in chats:
        messages = await chat.doors.outbox(chat.phone)
        for reply in chat.replies:
            tally.count(f"reply to {chat.phone[-4:]}", sum(1 for m in messages if m.text == reply))
        others = Counter(_shown(m) for m in messages if m.text not in chat.replies)
        for text, copies in others.items():
            if copies > 1:
                tally.duplicates += copies - 1
                tally.notes.append(f"{copies}x to {chat.phone[-4:]}: {text[:40]}")
    return tally


async def dead_letters(nats_url: str, nkey_seed: str) -> tuple[int, int]:
    """(dead letters, of which without a reason)."""
    nc = await nats.connect(nats_url, nkeys_seed_str=nkey_seed)
    try:
        jsm = nc.jsm()
        state = (await jsm.stream_info(DLQ.name)).state
        letters, reasonless = 0, 0
        for seq in range(state.first_seq, state.last_seq + 1) if state.messages else ():
            raw = await jsm.get_msg(DLQ.name, seq)
            letters += 1
            if not getattr(parse_event(raw.data or b""), "reason", None):
                reasonless += 1
        return letters, reasonless
    finally:
        await nc.close()


async def replay_dead_letters(nats_url: str, nkey_seed: str) -> int:
    """Replay every dead letter, as an operator would once the faults are gone (the
    runtime's ``python -m cauce_runtime.bus.dead_letters replay --all``); how many."""
    nc = await nats.connect(nats_url, nkeys_seed_str=nkey_seed)
    try:
        letters = await dlq.dead_letters(nc)
        for stored in letters:
            await dlq.replay(nc, stored)
        return len(letters)
    finally:
        await nc.close()
