"""Message templates of the Graph fake, as objects of a WhatsApp Business Account, and
Meta's checks against them: Meta sends only an approved template, in its language, with
exactly the parameters its header, body and URL buttons declare.

A template has Meta's full shape (``id``, ``name``, ``language``, ``status``,
``category``, ``quality_score``, ``components``). One configured with parameter counts
only (``{"name": "aviso", "language": "es_CO", "body_params": 1}``) gets generated
components with that many ``{{n}}`` placeholders; one configured with ``components``
takes its counts from them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator

from cauce_devstack.sandbox.meta.errors import (
    template_disabled,
    template_missing,
    template_param_count,
    template_paused,
)

TemplateCategory = Literal["MARKETING", "UTILITY", "AUTHENTICATION"]
QualityScore = Literal["GREEN", "YELLOW", "RED", "UNKNOWN"]
#: A Meta enum value as Meta spells it (``APPROVED``, ``PAUSED``, ``INCORRECT_CATEGORY``).
MetaName = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{0,63}$")]

#: Statuses Meta documents for a template (the ``status`` field).
TEMPLATE_STATUSES = (
    "APPROVED",
    "PENDING",
    "REJECTED",
    "PAUSED",
    "DISABLED",
    "IN_APPEAL",
    "PENDING_DELETION",
    "DELETED",
    "ARCHIVED",
    "LIMIT_EXCEEDED",
)
_PLACEHOLDER = re.compile(r"{{\s*([^{}\s]+)\s*}}")
_MEDIA_FORMATS = frozenset({"IMAGE", "VIDEO", "DOCUMENT", "LOCATION"})


def placeholders(text: str) -> list[str]:
    """The distinct ``{{n}}`` (or ``{{name}}``) placeholders of a template text, in order."""
    seen: list[str] = []
    for token in _PLACEHOLDER.findall(text):
        if token not in seen:
            seen.append(token)
    return seen


def template_id(name: str, language: str) -> str:
    """A stable 16-digit id shaped like Meta's, the same for a name + language on every
    run (tests and a restarted sandbox see the same ids)."""
    digest = hashlib.sha256(f"{name}\x00{language}".encode()).digest()
    return str(10**15 + int.from_bytes(digest[:8], "big") % (9 * 10**15))


def _generated_components(name: str, header_params: int, body_params: int) -> list[dict[str, Any]]:
    components: list[dict[str, Any]] = []
    if header_params:
        marks = " ".join(f"{{{{{i}}}}}" for i in range(1, header_params + 1))
        components.append(
            {
                "type": "HEADER",
                "format": "TEXT",
                "text": f"Aviso {marks}",
                "example": {"header_text": [f"ejemplo {i}" for i in range(1, header_params + 1)]},
            }
        )
    body: dict[str, Any] = {"type": "BODY", "text": f"Plantilla {name}."}
    if body_params:
        marks = ", ".join(f"{{{{{i}}}}}" for i in range(1, body_params + 1))
        body["text"] = f"Plantilla {name}: {marks}."
        body["example"] = {"body_text": [[f"ejemplo {i}" for i in range(1, body_params + 1)]]}
    components.append(body)
    return components


class KnownTemplate(BaseModel):
    """A template of a WhatsApp Business Account, in Meta's shape plus the parameter
    counts a send must match (derived from ``components`` when they are given)."""

    name: str = Field(min_length=1, max_length=512)
    language: str = Field(min_length=2)
    category: TemplateCategory = "UTILITY"
    """Meta's category (``marketing`` is accepted too); its lower case is the pricing
    category on status webhooks."""
    body_params: int = Field(default=0, ge=0)
    header_params: int = Field(default=0, ge=0)
    url_button_params: int = Field(default=0, ge=0)
    """URL buttons whose URL has a variable suffix: each takes one parameter."""
    id: str = ""
    """Meta's template id; empty: a stable id derived from name + language."""
    status: MetaName = "APPROVED"
    quality_score: QualityScore = "UNKNOWN"
    """New templates start ``UNKNOWN`` (quality pending), as on Meta."""
    rejected_reason: MetaName = "NONE"
    previous_category: TemplateCategory | None = None
    parameter_format: Literal["POSITIONAL", "NAMED"] = "POSITIONAL"
    components: list[dict[str, Any]] = Field(default_factory=list)
    """Meta's components (``HEADER``, ``BODY``, ``FOOTER``, ``BUTTONS``); empty: generated
    from the parameter counts."""

    @field_validator("category", "previous_category", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _complete(self) -> KnownTemplate:
        if not self.id:
            self.id = template_id(self.name, self.language)
        if not self.components:
            self.components = _generated_components(self.name, self.header_params, self.body_params)
            self.url_button_params = 0
        else:
            self.header_params, self.body_params, self.url_button_params = expected_counts(
                self.components
            )
        return self

    @property
    def pricing_category(self) -> str:
        """The category as status webhooks' ``pricing.category`` spells it."""
        return self.category.lower()

    def meta_shape(self) -> dict[str, Any]:
        """Every field the Graph fake can return for this template, as Meta names them."""
        shape: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "parameter_format": self.parameter_format,
            "components": [dict(component) for component in self.components],
            "quality_score": {"score": self.quality_score},
            "rejected_reason": self.rejected_reason,
        }
        if self.previous_category is not None:
            shape["previous_category"] = self.previous_category
        return shape


def _upper(value: object) -> str:
    return str(value or "").upper()


def expected_counts(components: Sequence[Mapping[str, Any]]) -> tuple[int, int, int]:
    """Parameters a send must give (header, body, URL buttons) for these components."""
    header = body = url_buttons = 0
    for component in components:
        kind = _upper(component.get("type"))
        if kind == "HEADER":
            if _upper(component.get("format")) in _MEDIA_FORMATS:
                header = 1
            else:
                header = len(placeholders(str(component.get("text") or "")))
        elif kind == "BODY":
            body = len(placeholders(str(component.get("text") or "")))
        elif kind == "BUTTONS":
            for button in component.get("buttons") or []:
                if _upper(button.get("type")) == "URL" and placeholders(
                    str(button.get("url") or "")
                ):
                    url_buttons += 1
    return header, body, url_buttons


def _given(components: Sequence[Mapping[str, Any]] | None, kind: str) -> int:
    """Parameters a send gives for one kind: ``header``, ``body`` or ``button`` (URL
    buttons only: quick-reply payloads are optional on Meta)."""
    count = 0
    for component in components or ():
        if str(component.get("type", "")).lower() != kind:
            continue
        if kind == "button" and str(component.get("sub_type", "")).lower() != "url":
            continue
        parameters = component.get("parameters") or []
        count += len(parameters) if isinstance(parameters, list) else 0
    return count


def check_template(
    known: Iterable[KnownTemplate],
    name: str,
    language: str,
    components: Sequence[Mapping[str, Any]] | None,
) -> KnownTemplate:
    """The matching template, if Meta would send it; raise as Meta does: 132001 unknown
    (or neither approved, paused nor disabled), 132015 paused, 132016 disabled, 132000
    a parameter count per component (header, body, URL button)."""
    match = next((t for t in known if t.name == name and t.language == language), None)
    if match is None:
        raise template_missing(name, language)
    if match.status == "PAUSED":
        raise template_paused()
    if match.status == "DISABLED":
        raise template_disabled()
    if match.status != "APPROVED":
        raise template_missing(name, language)
    expected = (
        ("header", match.header_params),
        ("body", match.body_params),
        ("button", match.url_button_params),
    )
    for kind, count in expected:
        given = _given(components, kind)
        if given != count:
            raise template_param_count(kind, given, count)
    return match


def _header_text(text: str, example: Sequence[str]) -> dict[str, Any]:
    return {"type": "HEADER", "format": "TEXT", "text": text, "example": {"header_text": example}}


def _body(text: str, *example: str) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "BODY", "text": text}
    if example:
        body["example"] = {"body_text": [list(example)]}
    return body


DEFAULT_TEMPLATES: tuple[KnownTemplate, ...] = (
    KnownTemplate(
        name="hello_world",
        language="en_US",
        category="UTILITY",
        quality_score="GREEN",
        components=[
            {"type": "HEADER", "format": "TEXT", "text": "Hello World"},
            _body(
                "Welcome and congratulations!! This message demonstrates your ability to "
                "send a WhatsApp message notification from the Cloud API, hosted by Meta. "
                "Thank you for taking the time to test with us."
            ),
            {"type": "FOOTER", "text": "WhatsApp Business Platform sample message"},
        ],
    ),
    KnownTemplate(
        name="bienvenida",
        language="es",
        category="MARKETING",
        quality_score="GREEN",
        components=[
            _body(
                "¡Hola {{1}}! Te damos la bienvenida. Escríbenos cuando quieras para "
                "consultar o pagar tus impuestos.",
                "Ana",
            ),
        ],
    ),
    KnownTemplate(
        name="pago_confirmado",
        language="es",
        category="UTILITY",
        quality_score="GREEN",
        components=[
            _body("Hola {{1}}, recibimos tu pago de {{2}}. ¡Gracias!", "Ana", "$150.000"),
        ],
    ),
    KnownTemplate(
        name="promo_temporada",
        language="es",
        category="MARKETING",
        quality_score="GREEN",
        components=[
            {"type": "HEADER", "format": "TEXT", "text": "Ofertas de temporada"},
            _body(
                "Hola {{1}}, este mes tienes {{2}} de descuento en el pago anticipado de tu "
                "impuesto vehicular.",
                "Ana",
                "10%",
            ),
            {"type": "FOOTER", "text": "Puedes dejar de recibir promociones en WhatsApp"},
            {
                "type": "BUTTONS",
                "buttons": [
                    {
                        "type": "URL",
                        "text": "Ver oferta",
                        "url": "https://cauce.example/ofertas/{{1}}",
                        "example": ["https://cauce.example/ofertas/abc123"],
                    },
                    {"type": "QUICK_REPLY", "text": "No me interesa"},
                ],
            },
        ],
    ),
    KnownTemplate(
        name="novedades_catalogo",
        language="es",
        category="MARKETING",
        components=[
            {
                "type": "HEADER",
                "format": "IMAGE",
                "example": {"header_handle": ["https://cauce.example/catalogo.jpg"]},
            },
            _body("Hola {{1}}, mira las novedades de este mes.", "Ana"),
        ],
    ),
    KnownTemplate(
        name="recordatorio_cita",
        language="es",
        category="UTILITY",
        quality_score="GREEN",
        components=[
            _header_text("Tu cita del {{1}}", ["12 de marzo"]),
            _body(
                "Hola {{1}}, te recordamos tu cita el {{2}} a las {{3}}. Si no puedes "
                "asistir, respóndenos para reprogramarla.",
                "Ana",
                "12 de marzo",
                "10:30",
            ),
            {"type": "FOOTER", "text": "Mensaje automático"},
            {
                "type": "BUTTONS",
                "buttons": [
                    {"type": "QUICK_REPLY", "text": "Confirmar"},
                    {"type": "QUICK_REPLY", "text": "Reprogramar"},
                ],
            },
        ],
    ),
    KnownTemplate(
        name="mensaje_fuera_de_ventana",
        language="es",
        category="UTILITY",
        quality_score="GREEN",
        components=[
            _body(
                "Hola, tenemos una respuesta a tu consulta: {{1}}. Respóndenos para "
                "continuar la conversación.",
                "tu pago quedó registrado",
            ),
        ],
    ),
)


class TemplateStore:
    """The templates each WhatsApp Business Account holds, mutable at run time (the
    sandbox's template controls pause, recategorise or edit them)."""

    def __init__(self, templates: Mapping[str, Iterable[KnownTemplate]]) -> None:
        # Deep copies: changing one sandbox's template must not touch the settings'
        # (or the module's default) objects another sandbox starts from.
        self._templates = {
            waba_id: [template.model_copy(deep=True) for template in listed]
            for waba_id, listed in templates.items()
        }

    def has_waba(self, waba_id: str) -> bool:
        return waba_id in self._templates

    def templates(self, waba_id: str) -> list[KnownTemplate]:
        return list(self._templates.get(waba_id, ()))

    def find(self, waba_id: str, name: str, language: str) -> KnownTemplate | None:
        return next(
            (
                t
                for t in self._templates.get(waba_id, ())
                if (t.name, t.language) == (name, language)
            ),
            None,
        )

    def replace(self, waba_id: str, template: KnownTemplate) -> None:
        """Put ``template`` in place of the one with its id (a changed copy of it)."""
        listed = self._templates[waba_id]
        for index, current in enumerate(listed):
            if current.id == template.id:
                listed[index] = template
                return
        raise KeyError(f"no template {template.id} in WABA {waba_id}")
