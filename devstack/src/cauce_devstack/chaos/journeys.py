"""The load: people driving the stack through its front doors, as they would.

Every webhook goes to the gateway the way its sender posts it, and is re-sent, as Meta,
SCI and ManyChat do, until it is answered 200 (a 503 while NATS is down is expected; a
webhook answered 200 is a promise the ledger then checks).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx

from cauce_devstack.demo.transcript import BotMessage
from cauce_devstack.sandbox.sci.status_webhook import SIGNATURE_HEADER, sign_webhook

#: How long one step may wait for the bot's answer (faults included) before it counts
#: as lost.
STEP_TIMEOUT_S = 240.0
RESEND_DELAYS_S = (0.5, 1, 2, 3, 5)


@dataclass
class Webhooks:
    """What the senders saw: answers by status, and re-sends."""

    accepted: int = 0
    refused: Counter[int] = field(default_factory=Counter)

    async def send(self, post: Callable[[], Awaitable[int]], deadline: float) -> None:
        """``post`` until it is answered 2xx, backing off like a provider retrying."""
        attempt = 0
        while True:
            try:
                status = await post()
            except httpx.HTTPError:
                status = 0  # no answer at all (a connection reset, a timeout)
            if 200 <= status < 300:
                self.accepted += 1
                return
            self.refused[status] += 1
            if time.monotonic() > deadline:
                raise TimeoutError(f"a webhook was refused until the deadline (last {status})")
            await asyncio.sleep(RESEND_DELAYS_S[min(attempt, len(RESEND_DELAYS_S) - 1)])
            attempt += 1


@dataclass
class Doors:
    """Where the journeys knock: the sandbox (the customer's phone, SCI's page) and the
    gateway (ManyChat's and SCI's webhooks)."""

    http: httpx.AsyncClient
    sandbox_url: str
    gateway_url: str
    manychat_api_key: str
    sci_webhook_secret: str
    webhooks: Webhooks = field(default_factory=Webhooks)

    async def outbox(self, phone: str) -> list[BotMessage]:
        answer = await self.http.get(
            f"{self.sandbox_url}/sandbox/outbox", params={"to": phone, "provider": "graph"}
        )
        answer.raise_for_status()
        return [BotMessage.from_outbox(e) for e in answer.json() if e["kind"] == "message"]


@dataclass
class BotCustomer:
    """A customer who greets the bot, gives the seed's plate, taps "Pagar", pays the link
    and reads the confirmation: four turns, one SCI transaction, one payment."""

    doors: Doors
    phone: str
    run_id: str
    #: A plate of its own (the SCI fake makes up one debt for any plate it does not
    #: know), so no two customers pay the same debt.
    plate: str
    transaction_id: str | None = None
    finished: bool = False
    stuck_at: str | None = None

    #: What the customer must have read once each: (step, test on a message).
    EXPECTED: tuple[tuple[str, Callable[[BotMessage], bool]], ...] = (
        ("greeting", lambda m: "escríbame la *placa*" in m.text.lower()),
        ("debt and options", lambda m: any(t.startswith("Pagar") for _, t in m.options)),
        ("payment link", lambda m: m.link is not None),
        ("confirmation", lambda m: "pago confirmado" in m.text.lower()),
    )

    async def run(self, deadline: float) -> None:
        await drive(self, self._journey(deadline))

    async def _journey(self, deadline: float) -> None:
        await self._say("hola", {"text": "Hola"}, deadline)
        await self._until("greeting", deadline)
        await self._say("plate", {"text": f"mi placa es {self.plate}"}, deadline)
        shown = await self._until("debt and options", deadline)
        option_id, title = next(o for m in shown for o in m.options if o[1].startswith("Pagar"))
        tap = {"type": "button_reply", "button_reply": {"id": option_id, "title": title}}
        await self._say("tap", {"message": {"type": "interactive", "interactive": tap}}, deadline)
        linked = await self._until("payment link", deadline)
        url = next(m.link[1] for m in linked if m.link is not None)
        self.transaction_id = url.rstrip("/").rsplit("/", 1)[-1]
        await self._pay(url, deadline)
        await self._until("confirmation", deadline)

    async def _say(self, step: str, body: dict[str, Any], deadline: float) -> None:
        message_id = f"wamid.CHAOS{self.run_id}{self.phone}{step}"

        async def post() -> int:
            answer = await self.doors.http.post(
                f"{self.doors.sandbox_url}/sandbox/customer/send",
                json={"from": self.phone, "message_id": message_id, **body},
            )
            return int(answer.json().get("gateway_status") or 0) if answer.is_success else 0

        await self.doors.webhooks.send(post, deadline)

    async def _until(self, step: str, deadline: float) -> list[BotMessage]:
        test = dict(self.EXPECTED)[step]
        give_up = min(deadline, time.monotonic() + STEP_TIMEOUT_S)
        while True:
            messages = await self.doors.outbox(self.phone)
            if any(test(m) for m in messages):
                return messages
            if time.monotonic() > give_up:
                raise TimeoutError(f"no {step}")
            await asyncio.sleep(0.25)

    async def _pay(self, url: str, deadline: float) -> None:
        """Pay once at SCI's page; SCI then re-sends the status webhook until the
        gateway takes it (its own retries, outside the sandbox's single attempt)."""
        paid = await self.doors.http.post(url)
        if paid.is_success and paid.json().get("webhook", {}).get("accepted"):
            self.doors.webhooks.accepted += 1
            return
        if not paid.is_success and paid.status_code != 409:
            raise TimeoutError(f"SCI's page answered {paid.status_code}")
        self.doors.webhooks.refused[0] += 1
        await self.doors.webhooks.send(self._status_webhook, deadline)

    async def _status_webhook(self) -> int:
        transactions = (
            await self.doors.http.get(f"{self.doors.sandbox_url}/sci/transactions")
        ).json()
        tx = next(t for t in transactions if t["transactionId"] == self.transaction_id)
        body = json.dumps(
            {
                "transactionId": tx["transactionId"],
                "status": tx["status"],
                "paymentReference": tx["paymentReference"],
                "amount": tx["valorTotal"],
                "statusDate": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
            separators=(",", ":"),
        ).encode()
        answer = await self.doors.http.post(
            f"{self.doors.gateway_url}/webhooks/sci",
            content=body,
            headers={
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign_webhook(self.doors.sci_webhook_secret, body),
            },
        )
        return answer.status_code


LEAD_STATES = ("Nuevo", "Contactado", "Interesado", "Asignado")


class Journey(Protocol):
    """One person's flow: :meth:`run` drives it; ``finished``/``stuck_at`` tell how far it
    got (a journey stuck after an accepted webhook is a loss)."""

    finished: bool
    stuck_at: str | None

    async def run(self, deadline: float) -> None: ...


async def drive(journey: Journey, steps: Awaitable[None], where: str = "") -> None:
    """Run a journey's ``steps``: it is ``finished``, or ``stuck_at`` (prefixed with
    ``where``) the step the deadline caught."""
    try:
        await steps
        journey.finished = True
    except TimeoutError as stuck:
        journey.stuck_at = f"{where}{stuck}"


#: What the bot's first answer says, whatever the channel renders it as.
GREETING_MARK = "placa"


@dataclass(frozen=True)
class OtherChannel:
    """A channel besides WhatsApp Cloud as the dev stack has it: where its webhooks go,
    how they are signed, where the sandbox keeps what was sent through it."""

    name: str  # "chattigo" | "ycloud"
    account_id: str
    #: Chattigo's webhook URL token; YCloud's webhook signing secret.
    secret: str

    def webhook(self, phone: str, message_id: str, text: str) -> tuple[str, bytes, dict[str, str]]:
        """``(path, body, headers)`` of a customer's text, as this channel posts it."""
        if self.name == "chattigo":
            body = {
                "id": message_id,
                "did": self.account_id,
                "msisdn": phone,
                "type": "text",
                "channel": "WHATSAPP",
                "content": text,
                "name": f"Cliente {phone[-4:]}",
                "isAttachment": False,
            }
            return f"/webhooks/chattigo/{self.secret}", json.dumps(body).encode(), {}
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        event = {
            "id": f"evt_{message_id}",
            "type": "whatsapp.inbound_message.received",
            "apiVersion": "v2",
            "createTime": now,
            "whatsappInboundMessage": {
                "id": message_id,
                "wamid": f"wamid.{message_id}",
                "from": f"+{phone}",
                "customerProfile": {"name": f"Cliente {phone[-4:]}"},
                "to": f"+{self.account_id}",
                "sendTime": now,
                "type": "text",
                "text": {"body": text},
            },
        }
        raw = json.dumps(event).encode()
        stamp = int(time.time())
        mac = hmac.new(self.secret.encode(), f"{stamp}.".encode() + raw, hashlib.sha256)
        return "/webhooks/ycloud", raw, {"YCloud-Signature": f"t={stamp},s={mac.hexdigest()}"}

    def sent_to(self, entries: list[dict[str, Any]], phone: str) -> list[str]:
        """The texts the sandbox's fake of this channel took for ``phone``."""
        texts = []
        for entry in entries:
            if entry.get("kind") != "message" or entry.get("to", "").lstrip("+") != phone:
                continue
            payload = entry.get("payload") or {}
            if self.name == "chattigo":
                texts.append(str(payload.get("content", "")))
            else:
                texts.append(str((payload.get("text") or {}).get("body", "")))
        return texts


@dataclass
class ChannelCustomer:
    """A customer greeting the bot on Chattigo or YCloud, posted as that channel posts
    it: the bot must greet back once, through that channel's provider."""

    doors: Doors
    channel: OtherChannel
    phone: str
    run_id: str
    finished: bool = False
    stuck_at: str | None = None

    async def run(self, deadline: float) -> None:
        await drive(self, self._greeted(deadline))

    async def _greeted(self, deadline: float) -> None:
        await self.doors.webhooks.send(self._post_hola, deadline)
        while not any(GREETING_MARK in t.lower() for t in await self.read()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.channel.name} greeting")
            await asyncio.sleep(1)

    async def _post_hola(self) -> int:
        message_id = f"{self.run_id}{self.phone[-6:]}"
        path, body, headers = self.channel.webhook(self.phone, message_id, "Hola")
        answer = await self.doors.http.post(
            f"{self.doors.gateway_url}{path}",
            content=body,
            headers={"Content-Type": "application/json", **headers},
        )
        return answer.status_code

    async def read(self) -> list[str]:
        """What this customer got through the channel."""
        answer = await self.doors.http.get(
            f"{self.doors.sandbox_url}/sandbox/outbox", params={"provider": self.channel.name}
        )
        answer.raise_for_status()
        return self.channel.sent_to(answer.json(), self.phone)


@dataclass
class ManyChatLead:
    """A lead ManyChat posts as it moves through its states; Odoo must end with one
    record for it, in its newest state."""

    doors: Doors
    manychat_id: str
    phone: str
    finished: bool = False
    stuck_at: str | None = None
    started: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def newest_state(self) -> str:
        return LEAD_STATES[-1]

    async def run(self, deadline: float) -> None:
        await drive(self, self._states(deadline))

    async def _states(self, deadline: float) -> None:
        for n, state in enumerate(LEAD_STATES):
            await self.doors.webhooks.send(functools.partial(self._post, n, state), deadline)
            await asyncio.sleep(0.5)

    async def _post(self, n: int, state: str) -> int:
        at = self.started + timedelta(seconds=n)
        answer = await self.doors.http.post(
            f"{self.doors.gateway_url}/webhooks/manychat/contact",
            headers={"X-API-KEY": self.doors.manychat_api_key},
            json={
                "manychat_id": self.manychat_id,
                "nombre_lead": f"Lead {self.manychat_id}",
                "datetime_actual": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "ultimo_estado": state,
                "id": f"{self.manychat_id}_contact",
                "first_name": "Lead",
                "last_name": self.manychat_id,
                "phone": f"+{self.phone}",
                "email": f"{self.manychat_id}@example.com",
            },
        )
        return answer.status_code


async def signed_in(http: httpx.AsyncClient, identity_url: str, email: str, password: str) -> str:
    """An access token for a demo user, as the console gets it (retried while identity
    is down)."""
    for _ in range(120):
        try:
            answer = await http.post(
                f"{identity_url}/api/auth/login", json={"email": email, "password": password}
            )
            if answer.status_code == 200:
                return str(answer.json()["access_token"])
        except httpx.HTTPError:
            pass
        await asyncio.sleep(1)
    raise TimeoutError("identity never signed the user in")


async def until_2xx(
    call: Callable[[], Awaitable[httpx.Response]], deadline: float, *, done: tuple[int, ...] = ()
) -> httpx.Response:
    """An operator's or agent's call, repeated while the service is away (the requests
    below are safe to repeat); ``done``: statuses that mean it already happened."""
    attempt = 0
    while True:
        try:
            answer = await call()
            if answer.is_success or answer.status_code in done:
                return answer
            if answer.status_code < 500 and answer.status_code not in (401, 404, 409, 429):
                raise TimeoutError(f"refused: {answer.status_code} {answer.text[:200]}")
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("a call never went through")
        await asyncio.sleep(RESEND_DELAYS_S[min(attempt, len(RESEND_DELAYS_S) - 1)])
        attempt += 1


@dataclass
class CampaignOperator:
    """A marketer who creates a template campaign, uploads its recipients, starts it and
    waits for it to complete: each recipient must get the template exactly once."""

    doors: Doors
    notifier_url: str
    token: str
    recipients: list[str]
    template: str = "bienvenida"
    campaign_id: str | None = None
    finished: bool = False
    stuck_at: str | None = None

    async def run(self, deadline: float) -> None:
        await drive(self, self._campaign(deadline), "campaign: ")

    async def _campaign(self, deadline: float) -> None:
        api = f"{self.notifier_url}/api/v1"
        headers = {"Authorization": f"Bearer {self.token}"}
        http = self.doors.http
        await until_2xx(lambda: http.post(f"{api}/templates/sync", headers=headers), deadline)
        body = {"name": "chaos", "template_name": self.template, "template_language": "es"}
        created = await until_2xx(
            lambda: http.post(f"{api}/campaigns", headers=headers, json=body), deadline
        )
        self.campaign_id = created.json()["id"]
        csv = "Recipient-Phone-Number,variable_1\n" + "".join(
            f"+{phone},Cliente {n}\n" for n, phone in enumerate(self.recipients)
        )
        upload = f"{api}/campaigns/{self.campaign_id}/upload-recipients"
        await until_2xx(
            lambda: http.post(upload, headers=headers, files={"file": ("r.csv", csv, "text/csv")}),
            deadline,
        )
        start = f"{api}/campaigns/{self.campaign_id}/start"
        await until_2xx(lambda: http.post(start, headers=headers), deadline, done=(409,))
        while True:
            status = await until_2xx(
                lambda: http.get(f"{api}/campaigns/{self.campaign_id}", headers=headers), deadline
            )
            if status.json()["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
                if status.json()["status"] != "COMPLETED":
                    raise TimeoutError(f"ended {status.json()['status']}")
                return
            if time.monotonic() > deadline:
                raise TimeoutError("never completed")
            await asyncio.sleep(1)


@dataclass
class AgentOnChat:
    """A customer asks for an advisor; an agent finds the chat and answers twice (each
    reply re-sent with its Idempotency-Key until accepted): the customer must read each
    reply exactly once."""

    doors: Doors
    conversation_url: str
    token: str
    phone: str
    code: str
    replies: tuple[str, ...] = ()
    finished: bool = False
    stuck_at: str | None = None

    async def run(self, deadline: float) -> None:
        await drive(self, self._chat(deadline), f"agent chat {self.code}: ")

    async def _chat(self, deadline: float) -> None:
        ask = f"Quiero hablar con un asesor, caso {self.code}"

        async def post() -> int:
            answer = await self.doors.http.post(
                f"{self.doors.sandbox_url}/sandbox/customer/send",
                json={"from": self.phone, "message_id": f"wamid.ASK{self.code}", "text": ask},
            )
            return int(answer.json().get("gateway_status") or 0) if answer.is_success else 0

        await self.doors.webhooks.send(post, deadline)
        headers = {"Authorization": f"Bearer {self.token}"}
        chat_id = await self._find_chat(headers, deadline)
        self.replies = tuple(f"Hola, soy su asesor ({self.code}, {n})" for n in (1, 2))
        for n, text in enumerate(self.replies):
            send = functools.partial(
                self.doors.http.post,
                f"{self.conversation_url}/api/chats/messages/{chat_id}",
                headers=headers | {"Idempotency-Key": f"chaos-{self.code}-{n}"},
                json={"text": text},
            )
            await until_2xx(send, deadline)
        give_up = min(deadline, time.monotonic() + STEP_TIMEOUT_S)
        while True:
            shown = [m.text for m in await self.doors.outbox(self.phone)]
            if all(reply in shown for reply in self.replies):
                return
            if time.monotonic() > give_up:
                raise TimeoutError("the agent's replies never arrived")
            await asyncio.sleep(0.25)

    async def _find_chat(self, headers: dict[str, str], deadline: float) -> str:
        give_up = min(deadline, time.monotonic() + STEP_TIMEOUT_S)
        while time.monotonic() < give_up:
            try:
                found = await self.doors.http.get(
                    f"{self.conversation_url}/api/chats",
                    headers=headers,
                    params={"q": f"caso {self.code}"},
                )
                items = found.json().get("items", []) if found.status_code == 200 else []
                if items:
                    return str(items[0]["id"])
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
        raise TimeoutError("the chat never reached the inbox")
