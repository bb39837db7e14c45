"""WhatsApp's limits on outbound content, enforced by the contract."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from cauce_contracts.outbound import (
    CtaUrlContent,
    ListContent,
    MarkReadContent,
    MediaContent,
    OutboundContent,
    ReplyButtonsContent,
    TemplateContent,
    TextContent,
)

CONTENT: TypeAdapter[Any] = TypeAdapter(OutboundContent)


def _buttons(*titles: str) -> list[dict[str, str]]:
    return [{"id": f"b{index}", "title": title} for index, title in enumerate(titles)]


def _rows(count: int, prefix: str = "r") -> list[dict[str, str]]:
    return [{"id": f"{prefix}{index}", "title": f"Row {index}"} for index in range(count)]


# --- discriminated union ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"type": "text", "body": "hola"}, TextContent),
        (
            {
                "type": "cta_url",
                "body": "b",
                "display_text": "Pagar ahora",
                "url": "https://x.co/p",
            },
            CtaUrlContent,
        ),
        ({"type": "reply_buttons", "body": "b", "buttons": _buttons("Sí")}, ReplyButtonsContent),
        (
            {"type": "list", "body": "b", "button": "Ver", "sections": [{"rows": _rows(1)}]},
            ListContent,
        ),
        ({"type": "template", "name": "bienvenida", "language": "es"}, TemplateContent),
        ({"type": "media", "media_type": "image", "id": "123"}, MediaContent),
        ({"type": "mark_read", "message_id": "wamid.1", "typing_indicator": True}, MarkReadContent),
    ],
)
def test_content_dispatches_on_type(data: dict[str, Any], expected: type) -> None:
    content = CONTENT.validate_python(data)
    assert type(content) is expected
    assert CONTENT.validate_json(CONTENT.dump_json(content)) == content


def test_unknown_content_type_rejected() -> None:
    with pytest.raises(ValidationError, match=r"union_tag_invalid|does not match any"):
        CONTENT.validate_python({"type": "carousel", "body": "x"})


# --- text and CTA URL ------------------------------------------------------------------


def test_text_body_limit() -> None:
    TextContent(body="x" * 4096)
    with pytest.raises(ValidationError):
        TextContent(body="x" * 4097)
    with pytest.raises(ValidationError):
        TextContent(body="")


def test_cta_url_display_text_limit() -> None:
    CtaUrlContent(body="b", display_text="x" * 20, url="https://pay.example.com/1")
    with pytest.raises(ValidationError, match="display_text"):
        CtaUrlContent(body="b", display_text="x" * 21, url="https://pay.example.com/1")


@pytest.mark.parametrize("url", ["ftp://example.com/x", "javascript:alert(1)", "https://a b.co"])
def test_cta_url_needs_http_url(url: str) -> None:
    with pytest.raises(ValidationError, match="url"):
        CtaUrlContent(body="b", display_text="Pagar", url=url)


def test_cta_url_kept_verbatim() -> None:
    url = "https://backendpruebas.vepay.com.co/pay?id=40037"
    assert CtaUrlContent(body="b", display_text="Pagar", url=url).url == url


# --- reply buttons ---------------------------------------------------------------------


def test_three_buttons_allowed_four_rejected() -> None:
    ReplyButtonsContent.model_validate({"body": "b", "buttons": _buttons("a", "b", "c")})
    with pytest.raises(ValidationError, match="buttons"):
        ReplyButtonsContent.model_validate({"body": "b", "buttons": _buttons("a", "b", "c", "d")})


def test_no_buttons_rejected() -> None:
    with pytest.raises(ValidationError):
        ReplyButtonsContent.model_validate({"body": "b", "buttons": []})


def test_button_title_21_chars_rejected() -> None:
    ReplyButtonsContent.model_validate({"body": "b", "buttons": _buttons("x" * 20)})
    with pytest.raises(ValidationError, match="title"):
        ReplyButtonsContent.model_validate({"body": "b", "buttons": _buttons("x" * 21)})


def test_duplicate_button_ids_and_titles_rejected() -> None:
    same_id = [{"id": "yes", "title": "Sí"}, {"id": "yes", "title": "Claro"}]
    with pytest.raises(ValidationError, match="button ids must be unique"):
        ReplyButtonsContent.model_validate({"body": "b", "buttons": same_id})
    with pytest.raises(ValidationError, match="button titles must be unique"):
        ReplyButtonsContent.model_validate({"body": "b", "buttons": _buttons("Sí", "Sí")})


# --- lists -----------------------------------------------------------------------------


def _list(sections: list[dict[str, Any]], **extra: Any) -> ListContent:
    return ListContent.model_validate(
        {"body": "b", "button": "Opciones", "sections": sections, **extra}
    )


def test_ten_rows_across_sections_allowed_eleven_rejected() -> None:
    _list([{"title": "A", "rows": _rows(5, "a")}, {"title": "B", "rows": _rows(5, "b")}])
    with pytest.raises(ValidationError, match="at most 10 rows"):
        _list([{"title": "A", "rows": _rows(5, "a")}, {"title": "B", "rows": _rows(6, "b")}])
    with pytest.raises(ValidationError):
        _list([{"rows": _rows(11)}])


def test_list_titles_limits() -> None:
    with pytest.raises(ValidationError, match="title"):
        _list([{"rows": [{"id": "r", "title": "x" * 25}]}])
    with pytest.raises(ValidationError, match="title"):
        _list([{"title": "x" * 25, "rows": _rows(1)}])
    with pytest.raises(ValidationError, match="button"):
        ListContent.model_validate(
            {"body": "b", "button": "x" * 21, "sections": [{"rows": _rows(1)}]}
        )
    with pytest.raises(ValidationError, match="description"):
        _list([{"rows": [{"id": "r", "title": "t", "description": "d" * 73}]}])


def test_list_rows_unique_and_sections_titled() -> None:
    with pytest.raises(ValidationError, match="row ids must be unique"):
        _list([{"title": "A", "rows": _rows(2)}, {"title": "B", "rows": _rows(1)}])
    with pytest.raises(ValidationError, match="needs a title"):
        _list([{"rows": _rows(1, "a")}, {"title": "B", "rows": _rows(1, "b")}])


# --- templates -------------------------------------------------------------------------


def test_template_with_parameters_round_trips() -> None:
    template = TemplateContent.model_validate(
        {
            "name": "recordatorio_pago",
            "language": "es_CO",
            "components": [
                {
                    "type": "header",
                    "parameters": [
                        {"type": "image", "media": {"link": "https://cdn.example.com/a.png"}}
                    ],
                },
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Juan"},
                        {
                            "type": "currency",
                            "fallback_value": "$954.688",
                            "code": "COP",
                            "amount_1000": 954688000,
                        },
                        {"type": "date_time", "fallback_value": "1 de septiembre"},
                    ],
                },
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": 0,
                    "parameters": [{"type": "payload", "payload": "PAY_NOW"}],
                },
            ],
        }
    )
    assert TemplateContent.model_validate_json(template.model_dump_json()) == template


@pytest.mark.parametrize(
    "data",
    [
        {"name": "Bienvenida", "language": "es"},
        {"name": "bienvenida", "language": "spanish"},
        {"name": "b", "language": "es", "components": [{"type": "button", "parameters": []}]},
        {"name": "b", "language": "es", "components": [{"type": "body", "index": 0}]},
        {
            "name": "b",
            "language": "es",
            "components": [{"type": "header", "parameters": [{"type": "image", "media": {}}]}],
        },
        {
            "name": "b",
            "language": "es",
            "components": [{"type": "body", "parameters": [{"type": "emoji", "text": "x"}]}],
        },
    ],
    ids=[
        "upper-name",
        "bad-language",
        "button-no-index",
        "body-with-index",
        "media-no-src",
        "param",
    ],
)
def test_template_invalid(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        TemplateContent.model_validate(data)


# --- media and mark-read ---------------------------------------------------------------


def test_media_rules() -> None:
    MediaContent(media_type="document", link="https://cdn.example.com/f.pdf", filename="f.pdf")
    with pytest.raises(ValidationError, match="exactly one"):
        MediaContent(media_type="image")
    with pytest.raises(ValidationError, match="exactly one"):
        MediaContent(media_type="image", id="1", link="https://cdn.example.com/a.png")
    with pytest.raises(ValidationError, match="no caption"):
        MediaContent(media_type="sticker", id="1", caption="hi")
    with pytest.raises(ValidationError, match="filename"):
        MediaContent(media_type="image", id="1", filename="a.png")
    with pytest.raises(ValidationError):
        MediaContent.model_validate({"media_type": "gif", "id": "1"})


def test_mark_read_needs_message_id() -> None:
    assert MarkReadContent(message_id="wamid.1").typing_indicator is False
    with pytest.raises(ValidationError):
        MarkReadContent.model_validate({"typing_indicator": True})


# --- property-based round trips --------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(body=st.text(min_size=1, max_size=4096), preview=st.booleans())
def test_text_round_trip(body: str, preview: bool) -> None:
    content = CONTENT.validate_python({"type": "text", "body": body, "preview_url": preview})
    assert CONTENT.validate_json(CONTENT.dump_json(content)) == content


@settings(max_examples=60, deadline=None)
@given(
    titles=st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=3, unique=True),
    body=st.text(min_size=1, max_size=1024),
)
def test_reply_buttons_round_trip(titles: list[str], body: str) -> None:
    content = CONTENT.validate_python(
        {"type": "reply_buttons", "body": body, "buttons": _buttons(*titles)}
    )
    assert CONTENT.validate_json(CONTENT.dump_json(content)) == content


@settings(max_examples=40, deadline=None)
@given(title=st.text(min_size=21, max_size=40))
def test_any_title_over_20_rejected(title: str) -> None:
    with pytest.raises(ValidationError):
        ReplyButtonsContent.model_validate({"body": "b", "buttons": _buttons(title)})
