"""Colombian pesos and dates as the customer reads them: ``$ 954.688``, ``01/09/2025``."""

from __future__ import annotations

from datetime import date


def format_pesos(amount: int) -> str:
    """``954688`` -> ``"$ 954.688"``: dot thousands separator, a space after ``$``,
    no decimals (SCI TOTAL amounts are whole pesos)."""
    grouped = f"{abs(amount):,}".replace(",", ".")
    return f"-$ {grouped}" if amount < 0 else f"$ {grouped}"


def format_fecha(day: date) -> str:
    """``date(2025, 9, 1)`` -> ``"01/09/2025"`` (dd/mm/aaaa)."""
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"
