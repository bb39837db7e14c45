"""Meta's WhatsApp content objects, built from our typed outbound content.

WhatsApp Cloud API and YCloud (which mirrors Meta's objects) both send these; the
functions are pure so tests can assert the exact wire shape.
"""

from __future__ import annotations

from typing import Any

from cauce_contracts.outbound import (
    CtaUrlContent,
    ListContent,
    MarkReadContent,
    MediaContent,
    OutboundContent,
    ReplyButtonsContent,
    TemplateComponent,
    TemplateContent,
    TemplateParameter,
    TextContent,
)


def _frame(interactive: dict[str, Any], header: str | None, footer: str | None) -> dict[str, Any]:
    """Add the optional text header/footer to an interactive object, in Meta's order."""
    framed: dict[str, Any] = {"type": interactive.pop("type")}
    if header is not None:
        framed["header"] = {"type": "text", "text": header}
    framed.update(interactive)
    if footer is not None:
        framed["footer"] = {"text": footer}
    return framed


def _cta_url(content: CtaUrlContent) -> dict[str, Any]:
    return _frame(
        {
            "type": "cta_url",
            "body": {"text": content.body},
            "action": {
                "name": "cta_url",
                "parameters": {"display_text": content.display_text, "url": str(content.url)},
            },
        },
        content.header,
        content.footer,
    )


def _reply_buttons(content: ReplyButtonsContent) -> dict[str, Any]:
    return _frame(
        {
            "type": "button",
            "body": {"text": content.body},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": button.id, "title": button.title}}
                    for button in content.buttons
                ]
            },
        },
        content.header,
        content.footer,
    )


def _list(content: ListContent) -> dict[str, Any]:
    sections: list[dict[str, Any]] = []
    for section in content.sections:
        rows: list[dict[str, Any]] = []
        for row in section.rows:
            wire_row = {"id": row.id, "title": row.title}
            if row.description is not None:
                wire_row["description"] = row.description
            rows.append(wire_row)
        wire_section: dict[str, Any] = {}
        if section.title is not None:
            wire_section["title"] = section.title
        wire_section["rows"] = rows
        sections.append(wire_section)
    return _frame(
        {
            "type": "list",
            "body": {"text": content.body},
            "action": {"button": content.button, "sections": sections},
        },
        content.header,
        content.footer,
    )


def _parameter(parameter: TemplateParameter) -> dict[str, Any]:
    if parameter.type == "text":
        wire: dict[str, Any] = {"type": "text", "text": parameter.text}
        if parameter.parameter_name is not None:
            wire["parameter_name"] = parameter.parameter_name
        return wire
    if parameter.type == "currency":
        return {
            "type": "currency",
            "currency": {
                "fallback_value": parameter.fallback_value,
                "code": parameter.code,
                "amount_1000": parameter.amount_1000,
            },
        }
    if parameter.type == "date_time":
        return {"type": "date_time", "date_time": {"fallback_value": parameter.fallback_value}}
    if parameter.type == "payload":
        return {"type": "payload", "payload": parameter.payload}
    source = parameter.media
    media = {"link": str(source.link)} if source.link is not None else {"id": source.id}
    return {"type": parameter.type, parameter.type: media}


def _component(component: TemplateComponent) -> dict[str, Any]:
    wire: dict[str, Any] = {"type": component.type}
    if component.type == "button":
        # Meta documents ``index`` as a string ("0").
        wire["sub_type"] = component.sub_type
        wire["index"] = str(component.index)
    wire["parameters"] = [_parameter(parameter) for parameter in component.parameters]
    return wire


def template_object(content: TemplateContent) -> dict[str, Any]:
    template: dict[str, Any] = {"name": content.name, "language": {"code": content.language}}
    if content.components:
        template["components"] = [_component(component) for component in content.components]
    return template


def media_object(content: MediaContent) -> dict[str, Any]:
    media: dict[str, Any] = (
        {"link": str(content.link)} if content.link is not None else {"id": content.id}
    )
    if content.caption is not None:
        media["caption"] = content.caption
    if content.filename is not None:
        media["filename"] = content.filename
    return media


def message_object(content: OutboundContent) -> tuple[str, dict[str, Any]]:
    """``(type, object)`` for a message: the body holds ``{"type": type, type: object}``.

    Mark-as-read is not a message (see :func:`read_receipt`) and is refused here.
    """
    if isinstance(content, TextContent):
        return "text", {"preview_url": content.preview_url, "body": content.body}
    if isinstance(content, CtaUrlContent):
        return "interactive", _cta_url(content)
    if isinstance(content, ReplyButtonsContent):
        return "interactive", _reply_buttons(content)
    if isinstance(content, ListContent):
        return "interactive", _list(content)
    if isinstance(content, TemplateContent):
        return "template", template_object(content)
    if isinstance(content, MediaContent):
        return content.media_type, media_object(content)
    raise TypeError(f"{type(content).__name__} is not a message")


def read_receipt(content: MarkReadContent) -> dict[str, Any]:
    """Meta's mark-as-read body, with the typing indicator when asked for."""
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": content.message_id,
    }
    if content.typing_indicator:
        body["typing_indicator"] = {"type": "text"}
    return body


__all__ = ["media_object", "message_object", "read_receipt", "template_object"]
