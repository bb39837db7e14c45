"""A scripted WhatsApp customer: writes through the sandbox's customer simulator (a
signed webhook to the gateway, exactly as Meta would post it) and reads the bot's
answers from the sandbox's outbox (what the notifier sent to the Graph API fake)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from cauce_devstack.demo.transcript import BotMessage, Transcript


class DemoFailed(RuntimeError):
    """The conversation did not go as scripted (the message says where)."""


@dataclass
class ScriptedCustomer:
    http: httpx.AsyncClient
    sandbox_url: str
    phone: str
    name: str = "Camila Rojas"
    transcript: Transcript = field(default_factory=Transcript)
    _last_seq: int = 0

    async def say(self, text: str) -> None:
        """Write ``text`` to the business number."""
        self.transcript.customer(text)
        await self._send({"text": text})

    async def tap(self, option_id: str, title: str) -> None:
        """Tap a reply button the bot sent."""
        self.transcript.customer(f"(toca «{title}»)")
        reply = {"type": "button_reply", "button_reply": {"id": option_id, "title": title}}
        await self._send({"message": {"type": "interactive", "interactive": reply}})

    async def pay(self, url: str) -> None:
        """Open the payment link and pay (the sandbox's SCI page)."""
        self.transcript.note(f"abre {url} y paga")
        response = await self.http.post(url)
        if response.status_code >= 400:
            raise DemoFailed(f"paying at {url} answered {response.status_code}: {response.text}")

    async def replies_until(
        self,
        done: Callable[[list[BotMessage]], bool],
        what: str,
        timeout: float = 30.0,  # noqa: ASYNC109
    ) -> list[BotMessage]:
        """New bot messages, polled until ``done(new)`` holds; each goes in the transcript."""
        new: list[BotMessage] = []
        try:
            async with asyncio.timeout(timeout):
                while True:
                    for entry in await self._outbox():
                        message = BotMessage.from_outbox(entry)
                        new.append(message)
                        self.transcript.bot(message)
                    if done(new):
                        return new
                    await asyncio.sleep(0.1)
        except TimeoutError:
            raise DemoFailed(f"no {what} from the bot within {timeout:.0f} s") from None

    async def _send(self, body: dict[str, Any]) -> None:
        response = await self.http.post(
            f"{self.sandbox_url}/sandbox/customer/send",
            json={"from": self.phone, "name": self.name, **body},
        )
        if response.status_code != 200 or response.json().get("gateway_status") != 200:
            raise DemoFailed(f"the gateway did not accept the message: {response.text}")

    async def _outbox(self) -> list[dict[str, Any]]:
        response = await self.http.get(
            f"{self.sandbox_url}/sandbox/outbox", params={"to": self.phone, "provider": "graph"}
        )
        response.raise_for_status()
        entries = [
            e for e in response.json() if e["seq"] > self._last_seq and e["kind"] == "message"
        ]
        if entries:
            self._last_seq = max(e["seq"] for e in entries)
        return entries
