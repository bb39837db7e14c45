"""Templates as Meta describes them, and the message each becomes for a recipient."""

from __future__ import annotations

from typing import Any

import pytest

from cauce_notifier.campaigns.templates import Slot, Template, placeholders

PROMO: dict[str, Any] = {
    "id": "1689556908129832",
    "name": "promo_impuesto",
    "language": "es",
    "status": "APPROVED",
    "category": "MARKETING",
    "quality_score": {"score": "GREEN"},
    "components": [
        {"type": "HEADER", "format": "TEXT", "text": "Hola {{1}}"},
        {
            "type": "BODY",
            "text": "{{1}}, tu placa {{2}} tiene un descuento. {{2}} vence pronto.",
            "example": {"body_text": [["Ana", "HHO137"]]},
        },
        {"type": "FOOTER", "text": "cauce"},
        {
            "type": "BUTTONS",
            "buttons": [
                {"type": "QUICK_REPLY", "text": "No me interesa"},
                {"type": "URL", "text": "Pagar", "url": "https://pay.example/{{1}}"},
            ],
        },
    ],
}


def test_slots_follow_whatsapps_order_header_body_then_url_buttons() -> None:
    template = Template.from_meta(PROMO)
    assert template.slots == (
        Slot("header", "1"),
        Slot("body", "1"),
        Slot("body", "2"),
        Slot("button", "url", button_index=1),
    )
    assert template.variables == 4
    assert template.approved and template.marketing and template.quality == "GREEN"


def test_a_recipients_values_become_the_send() -> None:
    content = Template.from_meta(PROMO).content(["Ana", "Ana", "HHO137", "abc123"])
    wire = content.model_dump(mode="json", exclude_none=True)
    assert wire["name"] == "promo_impuesto" and wire["language"] == "es"
    assert wire["components"] == [
        {"type": "header", "parameters": [{"type": "text", "text": "Ana"}]},
        {
            "type": "body",
            "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "HHO137"}],
        },
        {
            "type": "button",
            "sub_type": "url",
            "index": 1,
            "parameters": [{"type": "text", "text": "abc123"}],
        },
    ]
    with pytest.raises(ValueError, match="takes 4"):
        Template.from_meta(PROMO).content(["Ana"])


def test_named_parameters_carry_their_names() -> None:
    named = {
        "name": "cita",
        "language": "es_CO",
        "status": "APPROVED",
        "category": "UTILITY",
        "parameter_format": "NAMED",
        "components": [{"type": "BODY", "text": "{{nombre}}, su cita es el {{fecha}}"}],
    }
    content = Template.from_meta(named).content(["Ana", "martes"])
    body = content.model_dump(mode="json", exclude_none=True)["components"][0]
    assert body["parameters"] == [
        {"type": "text", "text": "Ana", "parameter_name": "nombre"},
        {"type": "text", "text": "martes", "parameter_name": "fecha"},
    ]


def test_a_media_header_takes_the_campaigns_link_not_a_variable() -> None:
    media = {
        "name": "catalogo",
        "language": "es",
        "status": "PAUSED",
        "category": "MARKETING",
        "components": [
            {"type": "HEADER", "format": "IMAGE"},
            {"type": "BODY", "text": "Mira {{1}}"},
        ],
    }
    template = Template.from_meta(media)
    assert template.variables == 1 and template.header_media == "IMAGE"
    assert not template.approved
    with pytest.raises(ValueError, match="IMAGE header"):
        template.content(["esto"])
    content = template.content(["esto"], header_media_link="https://cdn.example/c.jpg")
    header = content.model_dump(mode="json", exclude_none=True)["components"][0]
    assert header == {
        "type": "header",
        "parameters": [{"type": "image", "media": {"link": "https://cdn.example/c.jpg"}}],
    }


def test_placeholders_are_distinct_and_ordered() -> None:
    assert placeholders("{{2}} {{1}} {{ 2 }} {{nombre}}") == ["2", "1", "nombre"]
    assert placeholders(None) == [] and placeholders("sin variables") == []
