"""Message templates the Graph fake knows, and Meta's checks against them: Meta sends
only an approved template, in its language, with exactly its parameter counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from cauce_devstack.sandbox.meta.errors import template_missing, template_param_count

TemplateCategory = Literal["marketing", "utility", "authentication"]


class KnownTemplate(BaseModel):
    """An approved template: name + language, with its parameter counts."""

    name: str = Field(min_length=1)
    language: str = Field(min_length=2)
    body_params: int = Field(default=0, ge=0)
    header_params: int = Field(default=0, ge=0)
    category: TemplateCategory = "utility"
    """Pricing category reported in status webhooks."""


DEFAULT_TEMPLATES: tuple[KnownTemplate, ...] = (
    KnownTemplate(name="hello_world", language="en_US", category="utility"),
    KnownTemplate(name="bienvenida", language="es", body_params=1, category="marketing"),
    KnownTemplate(name="pago_confirmado", language="es", body_params=2, category="utility"),
)


def _count(components: Sequence[Mapping[str, Any]] | None, kind: str) -> int:
    count = 0
    for component in components or ():
        if str(component.get("type", "")).lower() == kind:
            parameters = component.get("parameters") or []
            count += len(parameters) if isinstance(parameters, list) else 0
    return count


def check_template(
    known: Iterable[KnownTemplate],
    name: str,
    language: str,
    components: Sequence[Mapping[str, Any]] | None,
) -> KnownTemplate:
    """The matching known template; raise 132001 / 132000 as Meta does."""
    match = next((t for t in known if t.name == name and t.language == language), None)
    if match is None:
        raise template_missing(name, language)
    for kind, expected in (("header", match.header_params), ("body", match.body_params)):
        given = _count(components, kind)
        if given != expected:
            raise template_param_count(kind, given, expected)
    return match
