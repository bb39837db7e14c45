"""Plate normalisation: cars ABC123, motorcycles ABC12D; case and separators forgiven."""

from __future__ import annotations

import pytest

from cauce_conversation.flows.vehicle_tax import find_plate, is_plate, normalize_plate


@pytest.mark.parametrize(
    ("written", "plate"),
    [
        ("HHO137", "HHO137"),
        ("hho137", "HHO137"),
        ("abc 123", "ABC123"),
        ("ABC-123", "ABC123"),
        ("abc.123", "ABC123"),
        ("  AbC 1-2.3 ", "ABC123"),
        ("abc12d", "ABC12D"),
        ("ABC 12D", "ABC12D"),
        ("abc-12-d", "ABC12D"),
        ("hhó137", "HHO137"),
    ],
)
def test_normalize_accepts_forgiving_spellings(written: str, plate: str) -> None:
    assert normalize_plate(written) == plate
    assert find_plate(written) == plate


@pytest.mark.parametrize(
    "written",
    ["", "AB123", "ABCD123", "ABC1234", "123ABC", "ABC1D3", "AB1234", "A1B2C3", "ABC12", "hola"],
)
def test_normalize_rejects_other_formats(written: str) -> None:
    assert normalize_plate(written) is None


@pytest.mark.parametrize(
    ("text", "plate"),
    [
        ("mi placa es hho137", "HHO137"),
        ("Hola, la placa es ABC-123, gracias", "ABC123"),
        ("es la moto xyz 12 d por favor", "XYZ12D"),
        ("placa: abc.123.", "ABC123"),
        ("buenas, quiero consultar FGH456", "FGH456"),
    ],
)
def test_find_plate_inside_a_sentence(text: str, plate: str) -> None:
    assert find_plate(text) == plate


@pytest.mark.parametrize(
    "text",
    [
        "hola buenas tardes",
        "quiero pagar 2024",
        "mi placa es ABC1234",
        "la placa es AB123",
        "PLACA123",
        "pagar las 2023 y 2024",
        "",
    ],
)
def test_find_plate_finds_none(text: str) -> None:
    assert find_plate(text) is None


@pytest.mark.parametrize(
    ("value", "valid"), [("ABC123", True), ("ABC12D", True), ("abc123", False), ("ABC-123", False)]
)
def test_is_plate_is_strict(value: str, valid: bool) -> None:
    assert is_plate(value) is valid
