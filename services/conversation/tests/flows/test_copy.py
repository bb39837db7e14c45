"""The copy is overridable and checked when built, not mid-conversation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cauce_contracts.outbound import TextContent
from cauce_conversation.flows import Reply, TextReceived, VehicleTaxCopy, VehicleTaxFlow
from cauce_conversation.flows.vehicle_tax.copy import MediaCopy


def test_defaults_are_spanish_and_build() -> None:
    copy = VehicleTaxCopy()
    assert "placa" in copy.greeting
    assert copy.cta_display_text == "Pagar ahora"


def test_override_changes_what_the_flow_says() -> None:
    copy = VehicleTaxCopy(
        greeting="¡Hola! Soy Tributo 🤖. ¿Cuál es su placa?",
        looking_up="Buscando {placa}…",
        media=MediaCopy(audio="Sin audios, por favor."),
    )
    flow = VehicleTaxFlow(copy)
    first = flow.step(flow.initial, TextReceived("hola"))
    greeting = first.commands[-1]
    assert isinstance(greeting, Reply) and isinstance(greeting.content, TextContent)
    assert greeting.content.body == "¡Hola! Soy Tributo 🤖. ¿Cuál es su placa?"
    second = flow.step(first.state, TextReceived("abc123"))
    bodies = [getattr(c, "content", None) for c in second.commands]
    assert any(getattr(b, "body", "") == "Buscando ABC123…" for b in bodies)


@pytest.mark.parametrize(
    "overrides",
    [
        {"looking_up": "Buscando {plate}"},  # typo in the placeholder
        {"greeting": "Hola {placa}"},  # the greeting knows no plate
        {"debt_block": "{vigencia:>10}"},  # format specs are not allowed
        {"greeting": "Hola {"},  # stray brace
        {"button_agent": "Hablar con un asesor humano"},  # over 20 characters
        {"greeting": ""},
        {"unknown_text": "x"},
    ],
)
def test_bad_copy_fails_at_build_time(overrides: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        VehicleTaxCopy(**overrides)


def test_literal_braces_are_allowed() -> None:
    assert VehicleTaxCopy(greeting="Hola {{amigo}}").greeting == "Hola {{amigo}}"
