"""Message templates as a WhatsApp Business Account holds them, and the message a
template becomes with a recipient's values.

A template's text parameters are ``{{1}}``, ``{{2}}``... (positional) or
``{{customer_name}}`` (named, ``parameter_format: NAMED``). A campaign fills them from
the recipient's variables in the order WhatsApp takes them: the header's text
parameter, the body's, then each URL button's suffix. A media header (image, video,
document) takes the campaign's one header media link instead of a variable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cauce_contracts.outbound import (
    MediaParameter,
    MediaSource,
    TemplateComponent,
    TemplateContent,
    TextParameter,
)

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
MEDIA_FORMATS = frozenset({"IMAGE", "VIDEO", "DOCUMENT"})


def placeholders(text: str | None) -> list[str]:
    """The distinct parameter names of ``text`` in order of first appearance."""
    names: list[str] = []
    for match in _PLACEHOLDER.finditer(text or ""):
        if match.group(1) not in names:
            names.append(match.group(1))
    return names


@dataclass(frozen=True)
class Slot:
    """One parameter a send fills: where it goes and its name."""

    component: str  # "header", "body" or "button"
    name: str
    #: The URL button's position, for ``component == "button"``.
    button_index: int | None = None


@dataclass(frozen=True)
class Template:
    """One template of a WABA, as Meta describes it (``GET .../message_templates``)."""

    name: str
    language: str
    status: str
    category: str
    template_id: str | None = None
    quality: str | None = None
    #: Meta's components, as Meta sent them.
    components: tuple[Mapping[str, Any], ...] = ()
    named: bool = False
    slots: tuple[Slot, ...] = field(default=())
    #: ``IMAGE``/``VIDEO``/``DOCUMENT`` when the header is media (None: text or none).
    header_media: str | None = None

    @classmethod
    def from_meta(cls, data: Mapping[str, Any]) -> Template:
        components = tuple(c for c in data.get("components") or () if isinstance(c, Mapping))
        quality = data.get("quality_score")
        return cls(
            name=str(data["name"]),
            language=str(data["language"]),
            status=str(data.get("status") or "PENDING").upper(),
            category=str(data.get("category") or "UTILITY").upper(),
            template_id=str(data["id"]) if data.get("id") is not None else None,
            quality=str(quality.get("score")).upper()
            if isinstance(quality, Mapping) and quality.get("score")
            else None,
            components=components,
            named=str(data.get("parameter_format") or "").upper() == "NAMED",
            slots=tuple(_slots(components)),
            header_media=_header_media(components),
        )

    @property
    def variables(self) -> int:
        """How many values a recipient needs (the CSV's ``variable_N`` columns)."""
        return len(self.slots)

    @property
    def approved(self) -> bool:
        return self.status == "APPROVED"

    @property
    def marketing(self) -> bool:
        return self.category == "MARKETING"

    def content(
        self, values: Sequence[str], *, header_media_link: str | None = None
    ) -> TemplateContent:
        """The message for one recipient: ``values`` fill :attr:`slots` in order."""
        if len(values) != len(self.slots):
            raise ValueError(f"{self.name} takes {len(self.slots)} value(s), got {len(values)}")
        header: list[TextParameter | MediaParameter] = []
        body: list[TextParameter] = []
        buttons: dict[int, list[TextParameter]] = {}
        for slot, value in zip(self.slots, values, strict=True):
            parameter = TextParameter(text=value, parameter_name=slot.name if self.named else None)
            if slot.component == "header":
                header.append(parameter)
            elif slot.component == "body":
                body.append(parameter)
            else:
                assert slot.button_index is not None
                buttons.setdefault(slot.button_index, []).append(TextParameter(text=value))
        if self.header_media is not None:
            if header_media_link is None:
                raise ValueError(f"{self.name} has a {self.header_media} header: give its link")
            kind = self.header_media.lower()
            header = [MediaParameter(type=kind, media=MediaSource(link=header_media_link))]
        components = []
        if header:
            components.append(TemplateComponent(type="header", parameters=list(header)))
        if body:
            components.append(TemplateComponent(type="body", parameters=list(body)))
        for index, parameters in sorted(buttons.items()):
            components.append(
                TemplateComponent(
                    type="button", sub_type="url", index=index, parameters=list(parameters)
                )
            )
        return TemplateContent(name=self.name, language=self.language, components=components)


def _slots(components: Sequence[Mapping[str, Any]]) -> list[Slot]:
    slots: list[Slot] = []
    for component in components:
        kind = str(component.get("type", "")).upper()
        if kind == "HEADER" and str(component.get("format", "TEXT")).upper() == "TEXT":
            slots += [Slot("header", name) for name in placeholders(component.get("text"))]
        elif kind == "BODY":
            slots += [Slot("body", name) for name in placeholders(component.get("text"))]
    for component in components:
        if str(component.get("type", "")).upper() != "BUTTONS":
            continue
        for index, button in enumerate(component.get("buttons") or ()):
            if str(button.get("type", "")).upper() == "URL" and placeholders(button.get("url")):
                slots.append(Slot("button", "url", button_index=index))
    return slots


def _header_media(components: Sequence[Mapping[str, Any]]) -> str | None:
    for component in components:
        if str(component.get("type", "")).upper() == "HEADER":
            fmt = str(component.get("format", "TEXT")).upper()
            return fmt if fmt in MEDIA_FORMATS else None
    return None
