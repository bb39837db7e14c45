"""The cross-company matrix of the inbox: company A works (a chat with its messages,
notes, labels, an appointment, a quick reply, a team, an agent, a sticker, a file),
then a user of company B calls every route of the conversation service with A's ids.
B never reads, lists, counts, streams or changes anything of A's; B's own writes land
in B. Every route of the service is in the matrix: a new one fails here until it is."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from fastapi.routing import APIRoute

from cauce_contracts.envelope import utc_now
from cauce_conversation.app import create_app
from cauce_conversation.model import Conversation
from cauce_conversation.settings import ConversationSettings
from cauce_conversation.store import ConversationStore
from cauce_devstack.testing import sse_events

from .conftest import MINTER

MakeConversation = Callable[..., Conversation]
A = MINTER.headers("acme", subject="user:ana")
B = MINTER.headers("globex", subject="user:bruno")
WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"w" * 100
PHOTO = b"\xff\xd8\xff\xe0" + b"p" * 100

#: Every route of the service, as the matrix below exercises it (ops routes aside).
COVERED = {
    ("GET", "/conversations"),
    ("GET", "/conversations/{conversation_id}"),
    ("GET", "/conversations/{conversation_id}/messages"),
    ("POST", "/conversations/{conversation_id}/assign"),
    ("POST", "/conversations/{conversation_id}/status"),
    ("POST", "/conversations/{conversation_id}/release"),
    ("POST", "/conversations/{conversation_id}/reply"),
    ("GET", "/api/chats"),
    ("GET", "/api/chats/messages/{chat_id}"),
    ("POST", "/api/chats/messages/{chat_id}"),
    ("POST", "/api/chats/messages/{chat_id}/bulk"),
    ("GET", "/api/chats/stream"),
    ("GET", "/api/chats/{chat_id}"),
    ("POST", "/api/chats/assign"),
    ("POST", "/api/chats/team"),
    ("POST", "/api/chats/status"),
    ("POST", "/api/chats/pin"),
    ("POST", "/api/chats/unpin"),
    ("POST", "/api/chats/snooze"),
    ("POST", "/api/chats/unsnooze"),
    ("POST", "/api/chats/labels"),
    ("POST", "/api/chats/notes"),
    ("POST", "/api/chats/bulk"),
    ("GET", "/api/quick-replies"),
    ("PUT", "/api/quick-replies/{shortcode}"),
    ("DELETE", "/api/quick-replies/{shortcode}"),
    ("POST", "/api/chats/appointments"),
    ("GET", "/api/chats/appointments/{chat_id}"),
    ("DELETE", "/api/chats/appointments/{appointment_id}"),
    ("GET", "/api/media/{company_id}/{sha256}"),
    ("POST", "/api/chats/media"),
    ("POST", "/api/companies/stickers"),
    ("GET", "/api/companies/stickers"),
    ("GET", "/api/agents"),
    ("PUT", "/api/agents/me/availability"),
    ("PUT", "/api/agents/{user_id}"),
    ("GET", "/api/teams"),
    ("PUT", "/api/teams/{name}"),
    ("POST", "/api/chats/ai/insights"),
    ("GET", "/api/chats/ai/insights"),
    ("POST", "/api/chats/ai/summaries/generate"),
    ("GET", "/api/chats/ai/summaries/{chat_id}"),
    ("POST", "/api/chats/ai/assist-draft"),
    ("GET", "/api/chats/ai/settings"),
    ("PUT", "/api/chats/ai/settings"),
    ("GET", "/api/chats/ai/usage"),
}
OPS = {"/healthz", "/readyz", "/metrics"}


def test_the_matrix_covers_every_route() -> None:
    app = create_app(ConversationSettings(environment="test", _env_file=None))

    def routes(found: list[Any]) -> set[tuple[str, str]]:
        pairs: set[tuple[str, str]] = set()
        for route in found:
            if isinstance(route, APIRoute) and route.path not in OPS:
                pairs |= {(method, route.path) for method in route.methods}
            elif hasattr(route, "original_router"):
                pairs |= routes(route.original_router.routes)
        return pairs

    assert routes(app.routes) == COVERED


async def company_a_works(http: httpx.AsyncClient, chat: Conversation) -> dict[str, Any]:
    """Everything A makes through the API; the ids B will try."""
    ok = {200, 201, 202}

    async def call(method: str, path: str, **kwargs: Any) -> httpx.Response:
        answer = await http.request(method, path, headers=A, **kwargs)
        assert answer.status_code in ok, (method, path, answer.text)
        return answer

    await call("PUT", "/api/teams/ventas", json={"mode": "round_robin"})
    await call("PUT", "/api/agents/ana", json={"teams": ["ventas"], "capacity": 3})
    await call("PUT", "/api/quick-replies/pago", json={"text": "Su pago: {{monto}}"})
    await call("POST", "/api/chats/labels", json={"chat_id": chat.id, "add": ["vip"]})
    await call("POST", "/api/chats/notes", json={"chat_id": chat.id, "text": "cliente A"})
    await call("POST", "/api/chats/messages/" + chat.id, json={"text": "Hola de A"})
    # kept results B must not read
    await call("POST", "/api/chats/ai/insights", json={"chat_id": chat.id})
    await call("POST", "/api/chats/ai/summaries/generate", json={"chat_id": chat.id})
    assist = {"after_resolve": True, "allow_unmasked": True}
    await call("PUT", "/api/chats/ai/settings", json=assist)
    at = (utc_now() + timedelta(days=2)).isoformat()
    booked = await call("POST", "/api/chats/appointments", json={"chat_id": chat.id, "at": at})
    sticker = await call(
        "POST",
        "/api/companies/stickers",
        files={"file": ("s.webp", WEBP, "image/webp")},
        data={"name": "hola"},
    )
    file = await call("POST", "/api/chats/media", files={"file": ("p.jpg", PHOTO, "image/jpeg")})
    return {
        "appointment": booked.json()["id"],
        "sticker": sticker.json()["id"],
        "file": file.json()["id"],
        "file_url": file.json()["url"],
    }


async def b_stream(http: httpx.AsyncClient, into: list[dict[str, Any]]) -> None:
    headers = {**B, "Last-Event-ID": "0"}  # from the stream's start: all it would get
    async with http.stream("GET", "/api/chats/stream", headers=headers) as stream:
        assert stream.status_code == 200
        async for _, kind, data in sse_events(stream):
            into.append({"kind": kind, **data})


async def test_company_b_never_reaches_company_a(
    service_url: str, conversation_store: ConversationStore, make_conversation: MakeConversation
) -> None:
    chat = await conversation_store.create(
        make_conversation(last_inbound_at=utc_now(), assignee="ana", handed_over=True)
    )
    async with httpx.AsyncClient(base_url=service_url, timeout=10) as http:
        streamed: list[dict[str, Any]] = []
        watching = asyncio.create_task(b_stream(http, streamed))
        ids = await company_a_works(http, chat)

        async def b(method: str, path: str, **kwargs: Any) -> httpx.Response:
            return await http.request(method, path, headers=B, **kwargs)

        # reads and lists: nothing of A's
        for path in ("/conversations", "/api/chats"):
            listing = (await b("GET", path)).json()
            assert listing["items"] == [], path
        assert set((await b("GET", "/api/chats")).json()["counts"].values()) == {0}
        for path in ("/api/quick-replies", "/api/companies/stickers", "/api/teams"):
            assert (await b("GET", path)).json() == [], path
        assert [a["user_id"] for a in (await b("GET", "/api/agents")).json()] == []
        assist = (await b("GET", "/api/chats/ai/settings")).json()
        assert (assist["after_resolve"], assist["allow_unmasked"]) == (False, False)
        assert (await b("GET", "/api/chats/ai/usage")).json()["providers"] == []
        for path in (
            f"/conversations/{chat.id}",
            f"/conversations/{chat.id}/messages",
            f"/api/chats/{chat.id}",
            f"/api/chats/messages/{chat.id}",
            f"/api/chats/appointments/{chat.id}",
            f"/api/chats/ai/insights?chat_id={chat.id}",
            f"/api/chats/ai/summaries/{chat.id}",
        ):
            assert (await b("GET", path)).status_code == 404, path

        # writes to A's chat: 404, as if it did not exist
        ref = {"chat_id": chat.id}
        for path, body in (
            (f"/conversations/{chat.id}/assign", {"assignee": "bruno"}),
            (f"/conversations/{chat.id}/status", {"status": "closed"}),
            (f"/conversations/{chat.id}/release", None),
            (f"/conversations/{chat.id}/reply", {"text": "hola", "agent": "bruno"}),
            (f"/api/chats/messages/{chat.id}", {"text": "hola"}),
            (f"/api/chats/messages/{chat.id}/bulk", {"messages": [{"text": "hola"}]}),
            ("/api/chats/assign", {**ref, "assignee": "bruno"}),
            ("/api/chats/team", {**ref, "team": None}),
            ("/api/chats/status", {**ref, "status": "resolved"}),
            ("/api/chats/pin", ref),
            ("/api/chats/unpin", ref),
            ("/api/chats/snooze", {**ref, "unsnooze_on_customer_reply": True}),
            ("/api/chats/unsnooze", ref),
            ("/api/chats/labels", {**ref, "remove": ["vip"]}),
            ("/api/chats/notes", {**ref, "text": "de B"}),
            ("/api/chats/ai/insights", ref),
            ("/api/chats/ai/summaries/generate", ref),
            ("/api/chats/ai/assist-draft", ref),
            ("/api/chats/appointments", {**ref, "at": (utc_now() + timedelta(days=1)).isoformat()}),
        ):
            answer = await b("POST", path, json=body)
            assert answer.status_code == 404, (path, answer.text)
        bulk = await b("POST", "/api/chats/bulk", json={"chat_ids": [chat.id], "action": "pin"})
        assert bulk.json() == {"updated": [], "not_found": [chat.id]}
        gone = await b("DELETE", f"/api/chats/appointments/{ids['appointment']}")
        assert gone.status_code == 404
        assert (await b("DELETE", "/api/quick-replies/pago")).status_code == 404

        # B's own writes land in B and leave A's as they were
        assert (await b("PUT", "/api/quick-replies/pago", json={"text": "de B"})).status_code == 200
        assert (await b("PUT", "/api/teams/ventas", json={"mode": "balanced"})).status_code == 200
        assert (await b("PUT", "/api/agents/ana", json={"capacity": 0})).status_code == 200
        online = await b("PUT", "/api/agents/me/availability", json={"online": True})
        assert online.json()["tenant_id"] == "globex"
        own_file = await b(
            "POST", "/api/chats/media", files={"file": ("p.jpg", PHOTO, "image/jpeg")}
        )
        assert own_file.json()["url"].startswith("/api/media/globex/")
        own_sticker = await b(
            "POST",
            "/api/companies/stickers",
            files={"file": ("s.webp", WEBP, "image/webp")},
            data={"name": "hola"},
        )
        assert own_sticker.status_code == 201
        own_assist = await b("PUT", "/api/chats/ai/settings", json={"after_resolve": False})
        assert own_assist.status_code == 200

        replies = (await http.get("/api/quick-replies", headers=A)).json()
        assert [r["text"] for r in replies] == ["Su pago: {{monto}}"]
        (team,) = (await http.get("/api/teams", headers=A)).json()
        assert team["mode"] == "round_robin"
        (agent,) = (await http.get("/api/agents", headers=A)).json()
        assert (agent["capacity"], agent["online"]) == (3, False)
        assert (await http.get(f"/api/chats/{chat.id}", headers=A)).json()["labels"] == ["vip"]
        assert (await http.get("/api/chats/ai/settings", headers=A)).json()["after_resolve"]
        booked = (await http.get(f"/api/chats/appointments/{chat.id}", headers=A)).json()
        assert [a["cancelled"] for a in booked] == [False]

        # A's file: only by A's signed link; the same path for B's company is refused
        assert (await http.get(ids["file_url"])).status_code == 200
        assert (await b("GET", ids["file_url"].replace("/acme/", "/globex/"))).status_code == 403

        await asyncio.sleep(0.5)  # B's stream had every chance to show A's changes
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching
    assert [event for event in streamed if event.get("chat_id") == chat.id] == []
