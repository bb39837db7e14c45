"""Colombian pesos and dates as the customer reads them."""

from __future__ import annotations

from datetime import date

import pytest

from cauce_conversation.flows.vehicle_tax import format_fecha, format_pesos


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (954688, "$ 954.688"),
        (0, "$ 0"),
        (5, "$ 5"),
        (1000, "$ 1.000"),
        (999, "$ 999"),
        (1234567, "$ 1.234.567"),
        (1000000000, "$ 1.000.000.000"),
        (-1500, "-$ 1.500"),
    ],
)
def test_format_pesos(amount: int, shown: str) -> None:
    assert format_pesos(amount) == shown


@pytest.mark.parametrize(
    ("day", "shown"),
    [(date(2025, 9, 1), "01/09/2025"), (date(2024, 12, 31), "31/12/2024")],
)
def test_format_fecha(day: date, shown: str) -> None:
    assert format_fecha(day) == shown
