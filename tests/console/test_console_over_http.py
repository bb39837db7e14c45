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


def api_token(stack: ConsoleStack, role: str = "admin") -> dict[str, str]:
    """The role's bearer token at the services (for what the console has no page for:
    a company's teams and stickers)."""
    email, password = stack.logins[role]
    login = httpx.post(
        stack.url("identity", "/api/auth/login"),
        json={"email": email, "password": password},
        timeout=10,
    )
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def chat_of(stack: ConsoleStack, client: httpx.Client, text: str, sender: str) -> str:
    """The id of the chat a customer's message opened (once the list shows it)."""
    stack.customer_writes(text, sender)

    def listed() -> str | None:
        page = client.get("/inbox/list?view=all").text
        for part in page.split('data-chat="')[1:]:
            chat_id, _, rest = part.partition('"')
            if f"Cliente {sender[-4:]}" in rest.split("</a>")[0]:
                return chat_id
        return None

    return str(eventually(listed, what=f"the chat of {sender} in the list"))


def test_labels_come_off_and_chats_move_to_a_team(console_stack: ConsoleStack) -> None:
    """A label added shows as a chip with its own remove button, which takes it off; a
    chat moves to one of the company's teams (offered in a datalist); an agent's role
    may not move chats (the reason is shown, the chat stays where it was)."""
    client = signed_in(console_stack)
    chat_id = chat_of(console_stack, client, "Necesito factura", "573001110404")
    live = f"/inbox/chats/{chat_id}"

    added = client.post(f"{live}/labels", data={"add": "Factura"}, headers=HTMX)
    assert added.status_code == 200
    assert 'aria-label="Quitar etiqueta factura"' in added.text
    assert """hx-vals='{"remove": "factura"}'""" in added.text
    client.post(f"{live}/labels", data={"add": "urgente"}, headers=HTMX)
    removed = client.post(f"{live}/labels", data={"remove": "factura"}, headers=HTMX)
    assert removed.status_code == 200
    assert "Quitar etiqueta factura" not in removed.text
    assert "Quitar etiqueta urgente" in removed.text  # only the one asked for came off
    english = signed_in(console_stack)
    english.get("/lang/en")
    assert 'aria-label="Remove label urgente"' in english.get(f"{live}/live").text

    teams = httpx.put(
        console_stack.url("conversation", "/api/teams/ventas"),
        json={"mode": "balanced", "auto_assign": False},
        headers=api_token(console_stack),
        timeout=10,
    )
    assert teams.status_code == 200, teams.text
    page = client.get(live).text
    assert f'list="teams-{chat_id}"' in page and '<option value="ventas">' in page
    assert '<option value="general">' in page  # the default team is always offered

    agent = signed_in(console_stack, "agent")
    refused = agent.post(f"{live}/team", data={"team": "ventas"}, headers=HTMX)
    assert refused.status_code == 422 and 'role="alert"' in refused.text
    assert "Equipo: el general" in refused.text  # not moved

    moved = client.post(f"{live}/team", data={"team": "ventas"}, headers=HTMX)
    assert moved.status_code == 200 and 'role="alert"' not in moved.text
    assert "Equipo: ventas" in moved.text and 'value="ventas"' in moved.text
    assert "Equipo: ventas" in client.get("/inbox/list?view=all").text
    # the agent's queue is the default team's: the chat left it
    assert chat_id not in agent.get("/inbox/list?view=all").text
    back = client.post(f"{live}/team", data={"team": "general"}, headers=HTMX)
    assert back.status_code == 200 and "Equipo: general" in back.text
    assert chat_id in agent.get("/inbox/list?view=all").text


def test_a_change_to_many_chats_from_the_list(console_stack: ConsoleStack) -> None:
    """Chats ticked in the list are resolved, assigned or labelled at once; the answer
    is the list again and how many changed and did not (an unknown chat counts as not
    changed); a role without chats.manage is refused and nothing changes."""
    client = signed_in(console_stack)
    first = chat_of(console_stack, client, "Consulta uno", "573001110505")
    second = chat_of(console_stack, client, "Consulta dos", "573001110606")
    ticked = client.get(f"/inbox/list?view=all&picked={first},{second}").text
    assert f'value="{first}" id="pick-{first}"' in ticked
    assert ticked.count(" checked>") == 2  # ticks survive the live refresh

    nothing = client.post("/inbox/bulk", data={"action": "resolve"}, headers=HTMX)
    assert nothing.status_code == 422 and "Marca al menos una conversación" in nothing.text
    no_label = client.post(
        "/inbox/bulk", data={"action": "label", "chat_ids": [first], "label": " "}, headers=HTMX
    )
    assert no_label.status_code == 422 and "Escribe la etiqueta a agregar" in no_label.text
    assert no_label.text.count(" checked>") == 1  # kept ticked to try again

    agent = signed_in(console_stack, "agent")
    refused = agent.post(
        "/inbox/bulk", data={"action": "resolve", "chat_ids": [first, second]}, headers=HTMX
    )
    assert refused.status_code == 422
    assert "0 cambiadas, 2 sin cambiar" in refused.text and "chats.manage" in refused.text
    assert refused.text.count(" checked>") == 2  # nothing done: still ticked
    refused_labels = agent.post(
        "/inbox/bulk",
        data={"action": "label", "chat_ids": [first, second], "label": "x"},
        headers=HTMX,
    )
    assert refused_labels.status_code == 422 and "0 cambiadas, 2 sin cambiar" in refused_labels.text

    ids = [first, second, "no-such-chat"]
    labelled = client.post(
        "/inbox/bulk", data={"action": "label", "chat_ids": ids, "label": "Mayorista"}, headers=HTMX
    )
    assert labelled.status_code == 200
    assert 'hx-swap-oob="innerHTML:#bulk-result"' in labelled.text
    assert "2 cambiadas, 1 sin cambiar" in labelled.text
    assert labelled.text.count('<span class="label">mayorista</span>') == 2
    assert " checked>" not in labelled.text  # done: nothing ticked any more

    assigned = client.post(
        "/inbox/bulk", data={"action": "assign_me", "chat_ids": ids}, headers=HTMX
    )
    assert "2 cambiadas, 1 sin cambiar" in assigned.text
    mine = client.get("/inbox/list?view=mine").text
    assert first in mine and second in mine

    resolved = client.post(
        "/inbox/bulk",
        data={"action": "resolve", "chat_ids": ids, "view": "all", "status": "open"},
        headers=HTMX,
    )
    assert "2 cambiadas, 1 sin cambiar" in resolved.text
    assert first not in resolved.text and second not in resolved.text  # the open ones
    for chat_id in (first, second):
        assert "· resuelto ·" in client.get(f"/inbox/chats/{chat_id}/live").text


#: A WebP file's first bytes (the conversation keeps stickers by their declared type).
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(24)


def test_a_sticker_from_the_picker_reaches_the_customer(console_stack: ConsoleStack) -> None:
    """A sticker the company added is offered in the composer (its preview relayed by
    the console), and choosing it sends it: the history shows it, the provider got it;
    an unknown one is refused with the reason. (No stickers, no picker:
    ``test_console_templates``.)"""
    client = signed_in(console_stack)
    sender = "573001110707"
    chat_id = chat_of(console_stack, client, "Gracias por todo", sender)
    added = httpx.post(
        console_stack.url("conversation", "/api/companies/stickers"),
        files={"file": ("gracias.webp", WEBP, "image/webp")},
        data={"name": "gracias"},
        headers=api_token(console_stack),
        timeout=10,
    )
    assert added.status_code == 201, added.text
    sticker = added.json()["id"]
    page = client.get(f"/inbox/chats/{chat_id}").text
    assert 'class="stickers"' in page and f'name="sticker" value="{sticker}"' in page
    assert 'alt="Enviar el sticker gracias"' in page
    preview = page.split('alt="Enviar el sticker gracias"')[0].rsplit('src="', 1)[1].split('"')[0]
    served = client.get(preview.replace("&amp;", "&"))
    assert served.status_code == 200 and served.content == WEBP  # through the console

    sent = client.post(f"/inbox/chats/{chat_id}/sticker", data={"sticker": sticker}, headers=HTMX)
    assert sent.status_code == 200 and 'role="alert"' not in sent.text
    assert '<img class="sticker"' in sent.text

    def at_provider() -> bool:
        outbox = httpx.get(
            console_stack.url("sandbox", "/sandbox/outbox"), params={"to": sender}, timeout=10
        ).json()
        return any(entry["type"] == "sticker" for entry in outbox)

    eventually(at_provider, what="the sticker at the Graph fake")
    unknown = client.post(
        f"/inbox/chats/{chat_id}/sticker", data={"sticker": "f" * 64}, headers=HTMX
    )
    assert unknown.status_code == 422 and "no sticker" in unknown.text


def test_voice_notes_videos_documents_and_stickers_show_as_such(
    console_stack: ConsoleStack,
) -> None:
    """A customer's voice note plays in an ``<audio>``, a video in a ``<video>``, a
    document is a link with its name and size, a sticker a small image, each by the
    signed link the console relays; a file cauce does not keep still says so."""
    client = signed_in(console_stack)
    sender = "573001110808"
    chat_id = chat_of(console_stack, client, "Le mando los archivos", sender)
    files = [
        {"type": "audio", "audio": {"id": "2000000000000001", "mime_type": "audio/ogg"}},
        {"type": "video", "video": {"id": "2000000000000002", "mime_type": "video/mp4"}},
        {
            "type": "document",
            "document": {
                "id": "2000000000000003",
                "mime_type": "application/pdf",
                "filename": "recibo.pdf",
            },
        },
        {"type": "sticker", "sticker": {"id": "2000000000000004", "mime_type": "image/webp"}},
        {
            "type": "document",
            "document": {
                "id": "2000000000000005",
                "mime_type": "application/x-msdownload",
                "filename": "programa.exe",
            },
        },
    ]
    for message in files:
        sent = httpx.post(
            console_stack.url("sandbox", "/sandbox/customer/send"),
            json={"message": message, "from": sender, "name": "Cliente 0808"},
            timeout=10,
        )
        assert sent.status_code == 200 and sent.json()["gateway_status"] == 200, sent.text

    def shown() -> str | None:
        page = client.get(f"/inbox/chats/{chat_id}/live").text
        wanted = ("<audio", "<video", "recibo.pdf", '<img class="sticker"', "archivo no guardado")
        return page if all(part in page for part in wanted) else None

    page = eventually(shown, timeout=30, what="the customer's files in the chat")
    audio = page.split("<audio")[1].split("</audio>")[0]
    assert "controls" in audio and 'aria-label="Nota de voz"' in audio
    video = page.split("<video")[1].split("</video>")[0]
    assert "controls" in video
    document = page.split('class="document"')[1].split("</li>")[0]
    assert (
        "</span> recibo.pdf" in document and 'class="size">(' in document and "Bytes)" in document
    )

    def link(fragment: str) -> str:
        return fragment.split('src="')[1].split('"')[0].replace("&amp;", "&")

    played = client.get(link(audio))
    assert played.status_code == 200 and played.headers["content-type"] == "audio/ogg"
    assert played.content.startswith(b"OggS")
    assert client.get(link(video)).headers["content-type"] == "video/mp4"
