"""The console over HTTP, as htmx calls it, against ``make run``'s stack: sign-in (and
refusals), the inbox fed by a customer's message, a reply that reaches the customer's
provider, the live stream relayed, the CSRF guard, signing out; and a user of another
company who sees none of it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from cauce_devstack.testing import create_admin

from .conftest import ConsoleStack

HTMX = {"HX-Request": "true"}


def signed_in(stack: ConsoleStack, role: str = "admin") -> httpx.Client:
    email, password = stack.logins[role]
    client = httpx.Client(base_url=stack.console, timeout=10)
    answer = client.post("/login", data={"email": email, "password": password}, headers=HTMX)
    assert answer.status_code == 204 and answer.headers["HX-Redirect"] == "/inbox"
    return client


def eventually(check: Callable[[], Any], timeout: float = 20, what: str = "it") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.25)
    raise AssertionError(f"{what} never happened")


def test_sign_in_is_the_identity_services(console_stack: ConsoleStack) -> None:
    with httpx.Client(base_url=console_stack.console, timeout=10) as client:
        assert client.get("/inbox").headers["location"] == "/login"  # signed out
        page = client.get("/login")
        assert page.status_code == 200 and 'name="password"' in page.text
        email, _ = console_stack.logins["admin"]
        wrong = client.post("/login", data={"email": email, "password": "nope"}, headers=HTMX)
        assert wrong.status_code == 200 and "incorrectos" in wrong.text
        cookie_less = client.post("/login", data={"email": email, "password": "x"})
        assert cookie_less.status_code == 403  # not from the console's own page


def test_a_customer_message_reaches_the_inbox_and_the_reply_the_provider(
    console_stack: ConsoleStack,
) -> None:
    client = signed_in(console_stack)
    cookie = client.cookies.get("cauce_session")
    assert cookie and "eyJ" not in cookie  # the tokens are encrypted, not readable
    console_stack.customer_writes("Hola, quiero pagar mi placa ABC123", "573001110101")

    def listed() -> str | None:
        page = client.get("/inbox/list?view=all").text
        return page if "0101" in page else None

    listing = eventually(listed, what="the chat in the list")
    chat_id = listing.split('data-chat="')[1].split('"')[0]
    chat = client.get(f"/inbox/chats/{chat_id}")
    assert "ABC123" in chat.text

    refused = client.post(f"/inbox/chats/{chat_id}/reply", data={"text": "Hola"})
    assert refused.status_code == 403  # a cross-site form cannot send HX-Request
    sent = client.post(
        f"/inbox/chats/{chat_id}/reply", data={"text": "Con gusto le ayudo"}, headers=HTMX
    )
    assert sent.status_code == 200 and "Con gusto le ayudo" in sent.text

    def at_provider() -> bool:
        outbox = httpx.get(console_stack.url("sandbox", "/sandbox/outbox"), timeout=10).json()
        return any("Con gusto le ayudo" in str(entry) for entry in outbox)

    eventually(at_provider, what="the reply at the Graph fake")
    assert client.post("/logout", headers=HTMX).headers["HX-Redirect"] == "/login"
    assert client.get("/inbox").status_code == 303


def test_the_live_stream_is_relayed(console_stack: ConsoleStack) -> None:
    client = signed_in(console_stack)
    events: list[str] = []
    with client.stream("GET", "/inbox/stream", timeout=httpx.Timeout(10, read=15)) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        console_stack.customer_writes("¿Siguen ahí?", "573001110202")
        for line in stream.iter_lines():
            events.append(line)
            if line.startswith("data:") and "event: chat" in events:
                break
    assert events[-1].startswith("data:") and '"chat_id"' in events[-1]


def test_another_company_sees_none_of_it(console_stack: ConsoleStack) -> None:
    console_stack.customer_writes("Mensaje de la empresa demo", "573001110303")
    password = "globex admin passphrase for the console"
    create_admin(console_stack.ports["postgres"], "globex", "admin@globex.example.com", password)
    client = httpx.Client(base_url=console_stack.console, timeout=10)
    answer = client.post(
        "/login", data={"email": "admin@globex.example.com", "password": password}, headers=HTMX
    )
    assert answer.status_code == 204
    page = client.get("/inbox").text
    assert "0303" not in page and "0101" not in page and 'data-chat="' not in page


def test_campaigns_follow_the_roles_and_the_company(console_stack: ConsoleStack) -> None:
    """An agent's role has no campaigns.read: the page says so (403), nothing leaks; the
    admin sees the campaigns page; a campaign id of another company is a 404."""
    agent = signed_in(console_stack, "agent")
    refused = agent.get("/campaigns")
    assert refused.status_code == 403 and "rol" in refused.text
    admin = signed_in(console_stack)
    page = admin.get("/campaigns")
    assert page.status_code == 200 and 'name="template"' in page.text
    missing = admin.get("/campaigns/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404


def test_operations_show_what_each_role_may_see(console_stack: ConsoleStack) -> None:
    """The company's admin sees the demo number healthy and the dead letters (the Odoo
    sync spans every company: platform admins only, the part says so); an agent's role
    sees none of the three (each part says so) and the page still loads."""
    admin = signed_in(console_stack)
    page = admin.get("/operations")
    assert page.status_code == 200
    assert "100000000000001" in page.text or "sandbox WhatsApp number" in page.text
    assert 'class="health ok"' in page.text
    assert page.text.count("Tu rol no permite ver esto") == 1  # the sync, platform-wide
    assert "No hay cartas muertas" in page.text
    channel_id = page.text.split("/operations/channels/")[1].split("/test")[0]
    checked = admin.post(f"/operations/channels/{channel_id}/test", headers=HTMX)
    assert checked.status_code == 200 and "health ok" in checked.text  # asked the Graph fake
    agent = signed_in(console_stack, "agent")
    narrowed = agent.get("/operations").text
    assert narrowed.count("Tu rol no permite ver esto") == 3
