"""Keyword matching (accent- and case-insensitive) and the button id scheme."""

from __future__ import annotations

import pytest

from cauce_conversation.flows.vehicle_tax import choices, keywords
from cauce_conversation.flows.vehicle_tax.choices import Choice, parse_choice


@pytest.mark.parametrize(
    ("text", "agent", "restart", "greeting"),
    [
        ("ASESOR", True, False, False),
        ("quiero hablar con un agente", True, False, False),
        ("Humano!!", True, False, False),
        ("Menú", False, True, False),
        ("menu por favor", False, True, False),
        ("REINICIAR", False, True, False),
        ("volver al inicio", False, True, False),
        ("Hola", False, False, True),
        ("hola, ¿qué tal?", False, False, True),
        ("Buenas tardes", False, False, True),
        ("hola mi placa es ABC123", False, False, False),
        (
            "no sé cuál es el menú de opciones que tienen para el pago del impuesto",
            False,
            False,
            False,
        ),
    ],
)
def test_intents(text: str, agent: bool, restart: bool, greeting: bool) -> None:
    words = keywords.normalize(text)
    assert keywords.wants_agent(words) is agent
    assert keywords.wants_restart(words) is restart
    assert keywords.is_greeting(words) is greeting


@pytest.mark.parametrize(
    ("text", "number"), [("1", 1), ("opción 2", 2), (" 3 ", 3), ("2024", None), ("uno", None)]
)
def test_option_number(text: str, number: int | None) -> None:
    assert keywords.option_number(keywords.normalize(text)) == number


def test_years_finds_every_year() -> None:
    assert keywords.years("pago 2023 y 2024, no 12345") == (2023, 2024)


@pytest.mark.parametrize(
    ("choice_id", "parsed"),
    [
        (choices.pay_all("HHO137"), Choice("pay_all", placa="HHO137")),
        ("pay:all", Choice("pay_all")),
        (choices.pay_vigencia(2024, "ABC12D"), Choice("pay_vigencia", 2024, "ABC12D")),
        ("pay:2024", Choice("pay_vigencia", 2024)),
        (choices.pay_choose("HHO137"), Choice("pay_choose", placa="HHO137")),
        (choices.retry_lookup("HHO137"), Choice("retry_lookup", placa="HHO137")),
        (choices.retry_link("HHO137"), Choice("retry_link", placa="HHO137")),
        ("plate:other", Choice("plate_other")),
        ("agent", Choice("agent")),
        ("pay:24", None),
        ("pay:2024:not-a-plate", None),
        ("pay:all:HHO137:x", None),
        ("something", None),
        ("", None),
    ],
)
def test_parse_choice(choice_id: str, parsed: Choice | None) -> None:
    assert parse_choice(choice_id) == parsed
