"""Access to the webhook fixtures next to these tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"


def raw(name: str) -> bytes:
    """The fixture's bytes, as the provider would post them."""
    return (FIXTURES / name).read_bytes()


def doc(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(raw(name))
    return loaded
