"""AI assist through real model clients, against the sandbox's Gemini and
OpenAI-compatible fakes over HTTP: a company admin picks an endpoint, a model and a
key (stored encrypted, never shown back); the model reads the chat with phone numbers
and tokens masked unless the company allows them; every call's tokens and cost are
recorded; a busy model is retried, a refused key or an unreadable answer is a 502 and
never a made-up result; a resolved chat is summarised when the company asks for it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from cauce_contracts.envelope import utc_now
from cauce_contracts.identity import Permission
from cauce_conversation.model import Conversation, MessageRecord
from cauce_devstack.sandbox.app import create_app as create_sandbox
from cauce_devstack.sandbox.models import DEV_PRICES, endpoints_at
from cauce_devstack.sandbox.settings import (
    DEV_GEMINI_API_KEY,
    DEV_OPENAI_API_KEY,
    SandboxSettings,
)
from cauce_devstack.servers import free_port
from cauce_devstack.testing import serving

from .conftest import MINTER, Inbox, chat_with

MakeConversation = Callable[..., Conversation]
PHONE = "300 123 4567"
LINK = "https://pagos.example.com/checkout?token=tok_9f8e7d6c5b4a39281706"
AGENT = MINTER.headers("acme", Permission.CHATS_READ, Permission.CHATS_REPLY)
#: Every permission of acme, settings and reports included.
ADMIN = MINTER.headers("acme")


@pytest.fixture
async def sandbox_url() -> AsyncIterator[str]:
    settings = SandboxSettings(port=free_port(), gateway_url="http://127.0.0.1:9")
    async with serving(create_sandbox(settings), settings.port) as url:
        yield url


@pytest.fixture
def settings_overrides(sandbox_url: str) -> dict[str, Any]:
    return {"ai_endpoints": endpoints_at(sandbox_url), "ai_prices": DEV_PRICES}


@pytest.fixture
async def sandbox(sandbox_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=10) as client:
        yield client


async def a_chat(inbox: Inbox, make: MakeConversation) -> Conversation:
    return await chat_with(
        inbox,
        make,
        "573001234567",
        ("customer", f"Hola, quiero pagar la placa ABC123, mi cel {PHONE}"),
        ("bot", f"Pague aquí: {LINK}"),
        ("customer", "Gracias, ya pagué"),
    )


async def choose(inbox: Inbox, **change: Any) -> httpx.Response:
    return await inbox.client.put("/api/chats/ai/settings", json=change, headers=ADMIN)


async def usage_of(inbox: Inbox) -> dict[str, Any]:
    answer = await inbox.client.get("/api/chats/ai/usage", headers=ADMIN)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def prompts_seen(sandbox: httpx.AsyncClient, provider: str) -> list[dict[str, Any]]:
    entries = (await sandbox.get("/sandbox/outbox", params={"provider": provider})).json()
    return [entry["payload"] for entry in entries]


async def test_gemini_reads_a_masked_chat_and_its_cost_is_recorded(
    inbox: Inbox, make_conversation: MakeConversation, sandbox: httpx.AsyncClient
) -> None:
    chosen = await choose(
        inbox, endpoint="gemini", model="gemini-2.5-flash", api_key=DEV_GEMINI_API_KEY
    )
    assert chosen.status_code == 200, chosen.text
    view = chosen.json()
    assert view["has_key"] and view["key_fingerprint"] and DEV_GEMINI_API_KEY not in chosen.text
    assert {e["name"] for e in view["endpoints"]} == {"gemini", "openai", "local"}

    chat = await a_chat(inbox, make_conversation)
    made = await inbox.client.post("/api/chats/ai/summaries/generate", json={"chat_id": chat.id})
    assert made.status_code == 200, made.text
    result = made.json()
    assert result["provider"] == "gemini-2.5-flash" and result["masked"] is True
    assert "Gracias, ya pagué" in result["summary"]  # the fake quotes the last customer line
    usage = result["usage"]
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0 and usage["cost_usd"] > 0

    (prompt,) = await prompts_seen(sandbox, "gemini")
    seen = str(prompt)
    assert PHONE not in seen and "*** 4567" in seen
    assert "tok_9f8e7d6c5b4a39281706" not in seen and "https://pagos.example.com/…" in seen
    assert prompt["generationConfig"]["responseSchema"]["type"] == "OBJECT"

    stored = await inbox.client.get(f"/api/chats/ai/summaries/{chat.id}")
    assert stored.json()["summary"] == result["summary"]
    spent = await usage_of(inbox)
    (totals,) = spent["providers"]
    assert (totals["provider"], totals["calls"], totals["failed"]) == ("gemini-2.5-flash", 1, 0)
    assert totals["cost_usd"] == pytest.approx(usage["cost_usd"])


async def test_the_key_is_encrypted_at_rest_and_kept_until_forgotten(inbox: Inbox) -> None:
    await choose(inbox, endpoint="gemini", model="gemini-2.5-flash", api_key=DEV_GEMINI_API_KEY)
    stored = await inbox.store.database.get_collection("assist_settings").find_one({"_id": "acme"})
    assert stored is not None
    assert DEV_GEMINI_API_KEY.encode() not in bytes(stored["api_key"])
    assert DEV_GEMINI_API_KEY not in str(stored)

    kept = await choose(inbox, endpoint="gemini", model="gemini-2.5-pro", after_resolve=True)
    assert kept.json()["has_key"] and kept.json()["model"] == "gemini-2.5-pro"
    forgotten = await choose(inbox, forget_key=True)  # back to the offline default
    assert (forgotten.json()["has_key"], forgotten.json()["endpoint"]) == (False, None)


async def test_openai_reads_the_chat_in_clear_only_when_the_company_allows_it(
    inbox: Inbox, make_conversation: MakeConversation, sandbox: httpx.AsyncClient
) -> None:
    await choose(
        inbox,
        endpoint="openai",
        model="gpt-4o-mini",
        api_key=DEV_OPENAI_API_KEY,
        allow_unmasked=True,
    )
    chat = await a_chat(inbox, make_conversation)
    made = await inbox.client.post("/api/chats/ai/insights", json={"chat_id": chat.id})
    assert made.status_code == 200, made.text
    result = made.json()
    assert result["provider"] == "gpt-4o-mini" and result["masked"] is False
    assert result["insights"]["entities"]["plates"] == ["ABC123"]
    assert result["insights"]["sentiment"] in {"positive", "neutral", "negative"}
    (prompt,) = await prompts_seen(sandbox, "openai")
    assert PHONE in str(prompt) and prompt["response_format"]["type"] == "json_schema"


async def test_a_local_model_server_needs_no_key_and_has_no_price(
    inbox: Inbox, make_conversation: MakeConversation
) -> None:
    chosen = await choose(inbox, endpoint="local", model="llama-3.1-8b-instruct")
    assert chosen.status_code == 200, chosen.text
    chat = await a_chat(inbox, make_conversation)
    draft = await inbox.client.post("/api/chats/ai/assist-draft", json={"chat_id": chat.id})
    assert draft.status_code == 200, draft.text
    assert draft.json()["draft"] and draft.json()["usage"]["cost_usd"] is None
    (totals,) = (await usage_of(inbox))["providers"]
    assert (totals["calls"], totals["unpriced_calls"], totals["cost_usd"]) == (1, 1, 0)


async def test_a_busy_model_is_retried_and_one_that_stays_busy_is_a_503(
    inbox: Inbox, make_conversation: MakeConversation, sandbox: httpx.AsyncClient
) -> None:
    await choose(inbox, endpoint="gemini", model="gemini-2.5-flash", api_key=DEV_GEMINI_API_KEY)
    chat = await a_chat(inbox, make_conversation)
    ref = {"chat_id": chat.id}
    await sandbox.post("/sandbox/faults", json={"target": "gemini", "kind": "5xx", "status": 503})
    retried = await inbox.client.post("/api/chats/ai/summaries/generate", json=ref)
    assert retried.status_code == 200, retried.text

    await sandbox.post(
        "/sandbox/faults", json={"target": "gemini", "kind": "429", "count": 3, "retry_after": 1}
    )
    busy = await inbox.client.post("/api/chats/ai/summaries/generate", json=ref)
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "1"
    assert "http_429" in busy.json()["detail"]
    assert (await sandbox.get("/sandbox/faults")).json() == []  # all three tries made
    (totals,) = (await usage_of(inbox))["providers"]
    assert (totals["calls"], totals["failed"]) == (2, 1)


async def test_a_refused_key_and_an_unreadable_answer_are_502s(
    inbox: Inbox, make_conversation: MakeConversation, sandbox: httpx.AsyncClient
) -> None:
    chat = await a_chat(inbox, make_conversation)
    ref = {"chat_id": chat.id}
    await choose(inbox, endpoint="openai", model="gpt-4o-mini", api_key="sk-not-a-known-key")
    refused = await inbox.client.post("/api/chats/ai/insights", json=ref)
    assert refused.status_code == 502 and "refused the key" in refused.json()["detail"]
    assert (await inbox.client.get("/api/chats/ai/insights", params=ref)).status_code == 404

    await choose(inbox, endpoint="openai", model="gpt-4o-mini", api_key=DEV_OPENAI_API_KEY)
    await sandbox.post("/sandbox/faults", json={"target": "openai", "kind": "malformed"})
    unreadable = await inbox.client.post("/api/chats/ai/insights", json=ref)
    assert unreadable.status_code == 502 and "malformed_answer" in unreadable.json()["detail"]
    spent = await usage_of(inbox)
    billed = [r for r in spent["recent"] if r["error"] and "malformed" in r["error"]]
    assert billed and billed[0]["usage"]["input_tokens"] > 0  # paid for, though unreadable


async def test_settings_are_the_admins_and_checked(inbox: Inbox) -> None:
    unknown = await choose(inbox, endpoint="mistral", model="large")
    assert unknown.status_code == 422 and "known: gemini, local, openai" in unknown.text
    keyless = await choose(inbox, endpoint="gemini", model="gemini-2.5-flash")
    assert keyless.status_code == 422 and "needs an API key" in keyless.text
    pathy = await choose(inbox, endpoint="gemini", model="../x", api_key=DEV_GEMINI_API_KEY)
    assert pathy.status_code == 422
    agent = await inbox.client.put("/api/chats/ai/settings", json={}, headers=AGENT)
    assert agent.status_code == 403
    assert (await inbox.client.get("/api/chats/ai/usage", headers=AGENT)).status_code == 403


async def test_a_resolved_chat_is_summarised_when_the_company_asks(
    service_url: str,
    conversation_store: Any,
    make_conversation: MakeConversation,
    sandbox: httpx.AsyncClient,
) -> None:
    chat = await conversation_store.create(make_conversation(last_inbound_at=utc_now()))
    await conversation_store.add_message(
        MessageRecord(
            id=f"{chat.id}:0",
            conversation_id=chat.id,
            tenant_id=chat.tenant_id,
            direction="inbound",
            author="customer",
            type="text",
            text="Ya quedó todo, gracias",
            at=utc_now(),
        )
    )
    headers = MINTER.headers("acme")
    async with httpx.AsyncClient(base_url=service_url, headers=headers, timeout=10) as http:
        settings = {
            "endpoint": "gemini",
            "model": "gemini-2.5-flash",
            "api_key": DEV_GEMINI_API_KEY,
            "after_resolve": True,
        }
        assert (await http.put("/api/chats/ai/settings", json=settings)).status_code == 200
        closed = await http.post(
            "/api/chats/status", json={"chat_id": chat.id, "status": "resolved"}
        )
        assert closed.status_code == 200, closed.text
        found: dict[str, Any] = {}
        for _ in range(100):
            answer = await http.get("/api/chats/ai/insights", params={"chat_id": chat.id})
            if answer.status_code == 200:
                found = answer.json()
                break
            await asyncio.sleep(0.1)
        assert found.get("trigger") == "resolved" and found["provider"] == "gemini-2.5-flash"
        summary = (await http.get(f"/api/chats/ai/summaries/{chat.id}")).json()
        assert summary["trigger"] == "resolved"
        assert len(await prompts_seen(sandbox, "gemini")) == 2  # once each, summary and insights
