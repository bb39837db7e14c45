"""The conversation as the customer sees it on their phone, from the sandbox's outbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class BotMessage:
    """One message the bot sent, as the Graph API fake received it."""

    seq: int
    type: str
    text: str
    #: Reply buttons / list rows: (id, title).
    options: tuple[tuple[str, str], ...] = ()
    #: A CTA-URL button: (display text, url).
    link: tuple[str, str] | None = None

    @classmethod
    def from_outbox(cls, entry: dict[str, Any]) -> BotMessage:
        payload = entry.get("payload") or {}
        kind = str(payload.get("type") or entry.get("type") or "")
        if kind == "text":
            return cls(entry["seq"], kind, payload.get("text", {}).get("body", ""))
        if kind == "interactive":
            return cls._interactive(entry["seq"], payload.get("interactive") or {})
        if kind == "template":
            name = (payload.get("template") or {}).get("name", "")
            return cls(entry["seq"], kind, f"[plantilla {name}]")
        return cls(entry["seq"], kind, f"[{kind}]")

    @classmethod
    def _interactive(cls, seq: int, interactive: dict[str, Any]) -> BotMessage:
        body = (interactive.get("body") or {}).get("text", "")
        action = interactive.get("action") or {}
        kind = str(interactive.get("type", ""))
        if kind == "button":
            options = tuple(
                (b["reply"]["id"], b["reply"]["title"]) for b in action.get("buttons", [])
            )
            return cls(seq, "buttons", body, options=options)
        if kind == "list":
            rows = [row for s in action.get("sections", []) for row in s.get("rows", [])]
            return cls(seq, "list", body, options=tuple((r["id"], r["title"]) for r in rows))
        if kind == "cta_url":
            parameters = action.get("parameters") or {}
            link = (str(parameters.get("display_text", "")), str(parameters.get("url", "")))
            return cls(seq, "cta_url", body, link=link)
        return cls(seq, kind, body)

    def lines(self) -> list[str]:
        shown = [
            f"  🤖 {line}" if i == 0 else f"     {line}"
            for i, line in enumerate(self.text.splitlines() or [""])
        ]
        shown += [f"     [ {title} ]" for _, title in self.options]
        if self.link:
            shown.append(f"     [ {self.link[0]} ] -> {self.link[1]}")
        return shown


@dataclass
class Transcript:
    """Customer lines and bot messages, in the order they happened."""

    lines: list[str] = field(default_factory=list)

    def customer(self, text: str) -> None:
        self.lines.append(f"  👤 {text}")

    def bot(self, message: BotMessage) -> None:
        self.lines.extend(message.lines())

    def note(self, text: str) -> None:
        self.lines.append(f"  ·· {text}")

    def render(self) -> str:
        return "\n".join(self.lines)
