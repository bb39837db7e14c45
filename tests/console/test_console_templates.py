"""The chat's templates rendered through the console's own Jinja environment, with the
conversation service's answers faked: what each kind of file looks like in the history,
label chips and their remove buttons (escaped), and the sticker picker only when the
company has stickers. (The same pages against a running stack: the other modules.)"""

from __future__ import annotations

from typing import Any

from cauce_console.bootstrap import TEMPLATES_DIR
from cauce_console.i18n import Lang, words
from fastapi.templating import Jinja2Templates

TEMPLATES = Jinja2Templates(TEMPLATES_DIR)


def chat(**changes: Any) -> dict[str, Any]:
    return {
        "id": "chat-1",
        "profile_name": "Cliente 0001",
        "contact_masked": "*******0001",
        "status": "open",
        "assignee": None,
        "team": None,
        "labels": [],
        "pinned": False,
        **changes,
    }


def message(n: int, media: dict[str, Any] | None, kind: str = "text") -> dict[str, Any]:
    return {
        "id": f"m{n}",
        "direction": "inbound",
        "type": kind,
        "text": None,
        "media": media,
        "at": "2025-01-01T10:00:00+00:00",
        "delivery": None,
    }


def stored(content_type: str, **more: Any) -> dict[str, Any]:
    return {
        "status": "stored",
        "content_type": content_type,
        "url": f"/api/media/demo/{content_type.replace('/', '-')}?expires=1&signature=x",
        **more,
    }


def render(name: str, lang: Lang = "es", **context: Any) -> str:
    values: dict[str, Any] = {
        "t": words(lang),
        "lang": lang,
        "chat": chat(),
        "messages": [],
        "quick_replies": [],
        "window_open": True,
        "templates": [],
        "teams": ["general", "ventas"],
        "stickers": [],
        **context,
    }
    return TEMPLATES.env.get_template(name).render(values)


def test_each_kind_of_file_shows_as_what_it_is() -> None:
    messages = [
        message(1, stored("audio/ogg", size=2048), "audio"),
        message(2, stored("video/mp4", size=10_000), "video"),
        message(3, stored("application/pdf", size=123_456, filename="recibo.pdf"), "document"),
        message(4, stored("image/webp", size=900), "sticker"),
        message(5, stored("image/jpeg", size=900), "image"),
        message(6, stored("application/msword"), "document"),
        message(7, {"status": "refused", "reason": "too_large"}, "video"),
    ]
    page = render("_chat_live.html", messages=messages)
    assert '<audio class="audio" controls preload="none" src="/api/media/demo/audio-ogg' in page
    assert '<video class="video" controls preload="metadata" src="/api/media/demo/video-mp4' in page
    assert "audio-ogg?expires=1&amp;signature=x" in page  # the link, escaped in the attribute
    assert '</span> recibo.pdf</a>\n        <span class="size">(123.5 kB)</span>' in page
    assert '<img class="sticker" src="/api/media/demo/image-webp' in page
    assert 'src="/api/media/demo/image-jpeg?expires=1&amp;signature=x" alt="image"' in page
    assert "</span> Documento</a>" in page  # no name: what it is; no size: none shown
    assert page.count('class="size"') == 1
    assert "archivo no guardado (too_large)" in page
    english = render("_chat_live.html", "en", messages=messages[:1])
    assert 'aria-label="Voice note"' in english


def test_label_chips_have_their_own_remove_button() -> None:
    page = render("_chat_live.html", chat=chat(labels=["vip", "o'neil <b>"]))
    assert 'aria-label="Quitar etiqueta vip"' in page
    assert """hx-vals='{"remove": "vip"}'""" in page
    # a label with a quote and markup stays a JSON string inside the attribute
    assert """hx-vals='{"remove": "o\\u0027neil \\u003cb\\u003e"}'""" in page
    assert "<b>" not in page
    assert render("_chat_live.html").count('class="unlabel"') == 0  # no labels, no chips


def test_the_team_form_offers_the_companys_teams() -> None:
    page = render("_chat_live.html", chat=chat(team="ventas"))
    assert 'list="teams-chat-1"' in page and 'value="ventas"' in page
    assert '<option value="general"></option><option value="ventas"></option>' in page
    assert "Equipo: ventas" in page
    assert "Equipo: el general" in render("_chat_live.html")


def test_the_sticker_picker_only_when_the_company_has_stickers() -> None:
    assert 'class="stickers"' not in render("_chat.html")
    sticker = {"id": "a" * 64, "name": "gracias", "size": 10, "url": "/api/media/demo/s"}
    page = render("_chat.html", stickers=[sticker])
    assert '<details class="stickers">' in page
    assert f'<button type="submit" name="sticker" value="{"a" * 64}"' in page
    assert 'alt="Enviar el sticker gracias"' in page


def test_the_list_has_a_box_to_tick_each_chat_and_a_bulk_bar() -> None:
    items = [chat(id="c1"), chat(id="c2", profile_name="Cliente 0002")]
    context = {"chats": items, "counts": {}, "view": "all", "status": None}
    page = render("_chat_list.html", picked={"c2"}, **context)
    assert 'form="bulk" name="chat_ids" value="c1"' in page  # the bar's form, outside
    assert 'aria-label="Marcar Cliente 0001">' in page
    assert 'aria-label="Marcar Cliente 0002" checked>' in page
    assert "bulk-result" not in page  # no outcome, nothing swapped out of band
    assert 'aria-label="Marcar Cliente 0001">' in render("_chat_list.html", **context)
    bar = render("_bulk_bar.html", view="mine", status="open")
    assert '<form id="bulk"' in bar and 'hx-sync="#chat-list:replace"' in bar
    assert 'name="view" value="mine"' in bar and 'name="status" value="open"' in bar
    # Enter in the label box submits with the form's first button: the label's own
    assert 'name="action" value="label"' in bar.split("<button")[1]
