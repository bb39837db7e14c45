"""AI assist at the seed's paths, with the offline default (no model configured): the
chat's insights (entities, lexicon sentiment, intent, churn risk, next action), a
summary of its latest messages and a draft reply, each stored and read back, each
saying it is the offline default; phone numbers never reach the provider in clear; a
chat the caller cannot see is a 404."""

from __future__ import annotations

from collections.abc import Callable

from cauce_conversation.model import Conversation

from .conftest import MINTER, Inbox, chat_with

MakeConversation = Callable[..., Conversation]


async def test_the_offline_default_reads_the_chat_and_says_so(
    inbox: Inbox, make_conversation: MakeConversation
) -> None:
    chat = await chat_with(
        inbox,
        make_conversation,
        "573001110001",
        ("customer", "Hola, quiero pagar la placa ABC123 de $1.250.000, mi cel 300 123 4567"),
        ("bot", "Le envío el enlace de pago"),
        ("customer", "Gracias, excelente servicio. Vence el 15/12/2026"),
    )
    missing = await inbox.client.get(f"/api/chats/ai/summaries/{chat.id}")
    assert missing.status_code == 404  # nothing generated yet

    made = await inbox.client.post("/api/chats/ai/insights", json={"chat_id": chat.id})
    assert made.status_code == 200, made.text
    result = made.json()
    assert result["provider"] == "offline" and result["usage"]["cost_usd"] == 0
    insights = result["insights"]
    assert (insights["sentiment"], insights["intent"], insights["churn_risk"]) == (
        "positive",
        "pay",
        "low",
    )
    assert insights["entities"] == {
        "amounts": ["$1.250.000"],
        "dates": ["15/12/2026"],
        "plates": ["ABC123"],
        "names": ["Camila Rojas"],
    }
    read = await inbox.client.get("/api/chats/ai/insights", params={"chat_id": chat.id})
    assert read.json()["insights"] == insights

    summary = (
        await inbox.client.post("/api/chats/ai/summaries/generate", json={"chat_id": chat.id})
    ).json()["summary"]
    assert summary.startswith("Offline default (no model)")
    assert "ABC123" in summary and "123 4567" not in summary and "*** 4567" in summary
    assert (await inbox.client.get(f"/api/chats/ai/summaries/{chat.id}")).json()[
        "summary"
    ] == summary

    draft = (
        await inbox.client.post("/api/chats/ai/assist-draft", json={"chat_id": chat.id})
    ).json()
    assert draft["draft"] and "Camila" in draft["draft"]

    other = MINTER.headers("other")
    for answer in (
        await inbox.client.post("/api/chats/ai/insights", json={"chat_id": chat.id}, headers=other),
        await inbox.client.get(f"/api/chats/ai/summaries/{chat.id}", headers=other),
    ):
        assert answer.status_code == 404


async def test_an_angry_customer_leaving_is_a_high_churn_risk(
    inbox: Inbox, make_conversation: MakeConversation
) -> None:
    chat = await chat_with(
        inbox,
        make_conversation,
        "573001110002",
        ("customer", "Tengo un problema, me hicieron un cobro doble. Terrible."),
        ("customer", "Quiero cancelar todo"),
    )
    insights = (
        await inbox.client.post("/api/chats/ai/insights", json={"chat_id": chat.id})
    ).json()["insights"]
    assert (insights["sentiment"], insights["intent"], insights["churn_risk"]) == (
        "negative",
        "cancel",
        "high",
    )
