"""The conversation benchmark: inbound webhook -> the bot's reply at the provider fake.

The whole stack runs as ``make run`` starts it (child processes, free ports, a
temporary home; MongoDB is ``MONGODB_URL`` when set, else the SecantusDB stand-in, and
the report names it). ``conversations`` scripted customers talk at once, each waiting
for the bot's answer, reading it for ``think_s`` and writing again, alternating "Hola"
(greeting) and the seed's plate (lookup through payments and SCI). A turn's latency
runs from just before the customer simulator is asked to post the signed webhook to the
moment the Graph API fake received the bot's first answer (its outbox ``received_at``):
webhook, gateway, JetStream, conversation (MongoDB), notifier and the provider call.
Turns/s counts answered turns over the run.

Two loads run on the same stack, one after the other:

- human pace (:data:`HUMAN_THINK_S`): the issue's target (p99 <= 150 ms at 20
  concurrent conversations) is judged here. Customers start one after another over
  their first think time instead of all in the same millisecond: twenty people do not
  write their first message in lockstep, and a synchronised start measures one burst of
  twenty first contacts, not conversations;
- capacity (:data:`CAPACITY_THINK_S`): customers write back almost at once, so the
  stack is saturated; turns/s is what these two cores carry and latency is queueing.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.stats import percentile
from cauce_devstack.testing import free_ports, launched

#: Target of the issue: p99 at 20 concurrent conversations.
TARGET_P99_MS = 150.0
#: Longest wait for the bot's first answer before the turn counts as unanswered.
ANSWER_WAIT_S = 10.0
#: Time a customer spends reading a turn's answers before writing again (the other
#: answers of the turn arrive meanwhile): a fast typist, well under how long people
#: take to answer a chat.
HUMAN_THINK_S = 2.0
#: The capacity run's: barely time for the turn's other answers to arrive.
CAPACITY_THINK_S = 0.3


@dataclass(frozen=True)
class ConversationReport:
    name: str
    conversations: int
    think_s: float
    duration_s: float
    turns: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    timeouts: int
    backend: str

    @property
    def turns_per_s(self) -> float:
        return self.turns / self.duration_s if self.duration_s else 0.0


async def _messages_to(
    http: httpx.AsyncClient, sandbox: str, phone: str, after_seq: int, wait_s: float = 0.0
) -> list[dict[str, Any]]:
    """The messages the Graph fake received for ``phone`` after ``after_seq`` (read
    receipts left out), waiting up to ``wait_s`` for one (the sandbox's long poll: the
    bench must not load the machine it measures with polling)."""
    entries = (
        await http.get(
            f"{sandbox}/sandbox/outbox",
            params={"to": phone, "provider": "graph", "after_seq": after_seq, "wait_s": wait_s},
        )
    ).json()
    return [entry for entry in entries if entry["kind"] == "message"]


async def _customer(
    http: httpx.AsyncClient,
    sandbox: str,
    phone: str,
    *,
    start_in_s: float,
    think_s: float,
    deadline: float,
    latencies: list[float],
) -> int:
    await asyncio.sleep(start_in_s)
    timeouts, turn, last_seq = 0, 0, await _last_seq(http, sandbox, phone)
    while time.monotonic() < deadline:
        text = "Hola" if turn % 2 == 0 else "HHO137"
        turn += 1
        started = time.time()
        response = await http.post(
            f"{sandbox}/sandbox/customer/send", json={"from": phone, "text": text}
        )
        if response.json().get("gateway_status") != 200:
            timeouts += 1
            continue
        new = await _messages_to(http, sandbox, phone, last_seq, wait_s=ANSWER_WAIT_S)
        if not new:
            timeouts += 1
            continue
        first = min(new, key=lambda e: e["seq"])
        received = datetime.fromisoformat(first["received_at"]).timestamp()
        latencies.append((received - started) * 1000)
        await asyncio.sleep(think_s)  # the customer reads the turn's answers
        rest = await _messages_to(http, sandbox, phone, last_seq)
        last_seq = max(e["seq"] for e in [*new, *rest])
    return timeouts


async def _last_seq(http: httpx.AsyncClient, sandbox: str, phone: str) -> int:
    """Where this customer's outbox stands (a later load reuses the phone numbers)."""
    return max((entry["seq"] for entry in await _messages_to(http, sandbox, phone, 0)), default=0)


async def _drive(
    sandbox: str, conversations: int, duration_s: float, think_s: float, first: int
) -> tuple[list[float], int]:
    latencies: list[float] = []
    deadline = time.monotonic() + duration_s
    async with httpx.AsyncClient(timeout=15) as http:
        timeouts = await asyncio.gather(
            *(
                _customer(
                    http,
                    sandbox,
                    f"5732{first + i:08d}",
                    start_in_s=think_s * i / conversations,
                    think_s=think_s,
                    deadline=deadline,
                    latencies=latencies,
                )
                for i in range(conversations)
            )
        )
    return latencies, sum(timeouts)


def _measure(
    name: str, sandbox: str, conversations: int, duration_s: float, think_s: float, first: int
) -> ConversationReport:
    backend = "MongoDB (MONGODB_URL)" if os.environ.get("MONGODB_URL") else "SecantusDB stand-in"
    started = time.monotonic()
    latencies, timeouts = asyncio.run(_drive(sandbox, conversations, duration_s, think_s, first))
    elapsed = time.monotonic() - started
    ordered = sorted(latencies)
    return ConversationReport(
        name=name,
        conversations=conversations,
        think_s=think_s,
        duration_s=elapsed,
        turns=len(ordered),
        p50_ms=percentile(ordered, 0.5),
        p99_ms=percentile(ordered, 0.99),
        max_ms=ordered[-1] if ordered else 0.0,
        timeouts=timeouts,
        backend=backend,
    )


def run(home: Path, conversations: int = 20, duration_s: float = 60.0) -> list[ConversationReport]:
    """Start the stack under ``home``, run the human-pace load then the capacity load
    (each ``duration_s``, new customers each), stop the stack."""
    ports = free_ports()
    with launched(home, ports, keep_mongodb_url=True) as stack:
        stack.wait_ready(timeout=180)
        sandbox = f"http://127.0.0.1:{ports['sandbox']}"
        reports = [
            _measure("human pace", sandbox, conversations, duration_s, HUMAN_THINK_S, 0),
            _measure(
                "capacity", sandbox, conversations, duration_s, CAPACITY_THINK_S, conversations
            ),
        ]
        stack.interrupt()
    return reports


def render(reports: list[ConversationReport]) -> str:
    lines = [
        "",
        "conversation: webhook -> bot reply at the provider fake "
        f"(MongoDB backend: {reports[0].backend if reports else '-'})",
        "  run           customers  think s   turns  turns/s  unanswered"
        "   p50 ms   p99 ms   max ms",
    ]
    for report in reports:
        lines.append(
            f"  {report.name:<12} {report.conversations:>10} {report.think_s:>7.1f}"
            f" {report.turns:>7} {report.turns_per_s:>8.1f} {report.timeouts:>11}"
            f" {report.p50_ms:>8.1f} {report.p99_ms:>8.1f} {report.max_ms:>8.1f}"
        )
    judged = next((r for r in reports if r.think_s == HUMAN_THINK_S), None)
    if judged is not None:
        verdict = "met" if judged.p99_ms <= TARGET_P99_MS and not judged.timeouts else "NOT met"
        lines.append(
            f"  target p99 <= {TARGET_P99_MS:.0f} ms at {judged.conversations} conversations"
            f" (human pace): {verdict}"
        )
    return "\n".join(lines)
