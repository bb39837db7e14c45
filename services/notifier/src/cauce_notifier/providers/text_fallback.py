"""Readable text for content a text-only channel (Chattigo) cannot carry.

Buttons become numbered options the customer can answer with a number, a CTA becomes
its label followed by the URL written out, a list becomes numbered rows with their
descriptions. WhatsApp's own markup is kept (``*bold*`` header, ``_italic_`` footer)
since the text still lands in WhatsApp. The second value says what was lost; delivery
records it on the message.
"""

from __future__ import annotations

from cauce_contracts.outbound import (
    CtaUrlContent,
    ListContent,
    ReplyButtonsContent,
    TextContent,
)

Degradable = TextContent | CtaUrlContent | ReplyButtonsContent | ListContent


def _join(header: str | None, parts: list[str], footer: str | None) -> str:
    blocks = [f"*{header}*"] if header is not None else []
    blocks.extend(parts)
    if footer is not None:
        blocks.append(f"_{footer}_")
    return "\n\n".join(blocks)


def as_text(content: Degradable) -> tuple[str, str | None]:
    """``(text, degradation)``: the text to send and what was lost (``None``: nothing)."""
    if isinstance(content, TextContent):
        return content.body, None
    if isinstance(content, CtaUrlContent):
        line = f"{content.display_text}: {content.url}"
        return (
            _join(content.header, [content.body, line], content.footer),
            "cta_url rendered as text with the URL written out (no button)",
        )
    if isinstance(content, ReplyButtonsContent):
        options = "\n".join(
            f"{number}. {button.title}" for number, button in enumerate(content.buttons, 1)
        )
        return (
            _join(content.header, [content.body, options], content.footer),
            "reply_buttons rendered as numbered text options (button ids not sent; "
            "replies arrive as free text)",
        )
    blocks = [content.body]
    number = 0
    for section in content.sections:
        lines = [f"*{section.title}*"] if section.title is not None else []
        for row in section.rows:
            number += 1
            line = f"{number}. {row.title}"
            if row.description is not None:
                line += f" - {row.description}"
            lines.append(line)
        blocks.append("\n".join(lines))
    return (
        _join(content.header, blocks, content.footer),
        f"list rendered as numbered text rows (menu button {content.button!r} dropped; "
        "row ids not sent; replies arrive as free text)",
    )


__all__ = ["Degradable", "as_text"]
