"""The demo conversation: hola → plate → debt → choose → link → pay → confirmation.

Then the trace of the turn where the customer chose what to pay: one trace from the
gateway's webhook through conversation, payments (SCI TOTAL) and back, to the notifier's
call to the WhatsApp Graph API.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from cauce_devstack.demo.customer import DemoFailed, ScriptedCustomer
from cauce_devstack.demo.transcript import BotMessage
from cauce_runtime.telemetry.traces import read_spans, render_tree

#: The seed's plate: one vigencia (2025), total $ 954.688 in the SCI fake.
DEMO_PLATE = "HHO137"


@dataclass(frozen=True)
class DemoResult:
    transcript: str
    trace_id: str | None
    trace_tree: list[str]


def _asks_for_input(messages: list[BotMessage]) -> bool:
    return bool(messages)


def _has_options(messages: list[BotMessage]) -> bool:
    return any(message.options for message in messages)


def _has_link(messages: list[BotMessage]) -> bool:
    return any(message.link for message in messages)


async def converse(sandbox_url: str, phone: str | None = None) -> tuple[ScriptedCustomer, float]:
    """Play the conversation; returns the customer and when the paying choice was made."""
    phone = phone or f"57300{random.randint(1_000_000, 9_999_999)}"  # noqa: S311 - not crypto
    async with httpx.AsyncClient(timeout=15) as http:
        customer = ScriptedCustomer(http, sandbox_url, phone)
        await customer.say("Hola")
        await customer.replies_until(_asks_for_input, "greeting")
        await _settle(customer)

        await customer.say(DEMO_PLATE.lower())
        shown = await customer.replies_until(_has_options, "debt with payment options")
        choice = _paying_option(shown)

        chose_at = time.time()
        await customer.tap(*choice)
        linked = await customer.replies_until(_has_link, "payment link")
        link = next(message.link for message in linked if message.link)

        await customer.pay(link[1])
        await customer.replies_until(_asks_for_input, "payment confirmation")
        await _settle(customer)
        return customer, chose_at


async def _settle(customer: ScriptedCustomer, quiet_s: float = 0.8) -> None:
    """Let trailing messages of a turn arrive (a turn may answer with several)."""
    await asyncio.sleep(quiet_s)
    await customer.replies_until(lambda _: True, "nothing")


def _paying_option(messages: list[BotMessage]) -> tuple[str, str]:
    options = [option for message in messages for option in message.options]
    for option_id, title in options:
        if title.lower().startswith("pagar"):
            return option_id, title
    if not options:
        raise DemoFailed("the bot offered nothing to pay")
    return options[0]


def turn_trace(
    span_file: Path, since: float, timeout: float = 15.0
) -> tuple[str | None, list[str]]:
    """The trace of the paying turn, once its provider call is in the span file."""
    deadline = time.monotonic() + timeout
    trace_id: str | None = None
    selected: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        spans = read_spans(span_file) if span_file.exists() else []
        trace_id = _paying_trace(spans, since)
        selected = [span for span in spans if span["trace_id"] == trace_id]
        if trace_id and _reached_provider(selected):
            break
        time.sleep(0.3)
    return trace_id, list(render_tree(selected)) if selected else []


def _paying_trace(spans: list[dict[str, Any]], since: float) -> str | None:
    since_iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(since - 1))
    candidates = [
        span
        for span in spans
        if (span.get("attributes") or {}).get("cauce.event_type") == "payments.link.requested"
        and str(span.get("start") or "") >= since_iso
    ]
    if not candidates:
        return None
    return str(max(candidates, key=lambda span: str(span.get("start")))["trace_id"])


def _reached_provider(spans: list[dict[str, Any]]) -> bool:
    return any(span.get("service") == "notifier" and span.get("kind") == "CLIENT" for span in spans)


async def run_demo(sandbox_url: str, span_file: Path) -> DemoResult:
    customer, chose_at = await converse(sandbox_url)
    trace_id, tree = await asyncio.to_thread(turn_trace, span_file, chose_at)
    return DemoResult(customer.transcript.render(), trace_id, tree)
