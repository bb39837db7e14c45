"""Ids of the buttons and list rows the flow sends, and parsing them back.

The scheme is ``<verb>:<object>[:<placa>]``, stable across deployments and copy
changes. Payment and retry ids carry the plate they were offered for, so a button
tapped on an older message about *another* plate is recognised as stale instead of
paying the wrong vehicle; ids without the plate are accepted too.

===========================  ==================================================
``pay:all:HHO137``           pay every vigencia shown
``pay:2024:HHO137``          pay one vigencia
``pay:choose:HHO137``        show the list of vigencias
``retry:lookup:HHO137``      ask the failed debt lookup again (same plate)
``retry:link:HHO137``        ask the failed link again (same ``request_key``)
``plate:other``              look up another plate
``agent``                    talk to a human (hand over)
===========================  ==================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cauce_conversation.flows.vehicle_tax.plates import is_plate

PLATE_OTHER = "plate:other"
AGENT = "agent"

ChoiceKind = Literal[
    "pay_all", "pay_choose", "pay_vigencia", "plate_other", "agent", "retry_lookup", "retry_link"
]


def pay_all(placa: str) -> str:
    return f"pay:all:{placa}"


def pay_choose(placa: str) -> str:
    return f"pay:choose:{placa}"


def pay_vigencia(vigencia: int, placa: str) -> str:
    return f"pay:{vigencia}:{placa}"


def retry_lookup(placa: str) -> str:
    return f"retry:lookup:{placa}"


def retry_link(placa: str) -> str:
    return f"retry:link:{placa}"


@dataclass(frozen=True)
class Choice:
    kind: ChoiceKind
    #: Set for ``pay_vigencia``.
    vigencia: int | None = None
    #: The plate the button was offered for, when the id names one.
    placa: str | None = None


_VERBS: dict[tuple[str, str], ChoiceKind] = {
    ("pay", "all"): "pay_all",
    ("pay", "choose"): "pay_choose",
    ("retry", "lookup"): "retry_lookup",
    ("retry", "link"): "retry_link",
}


def parse_choice(choice_id: str) -> Choice | None:
    """The choice an id names, or ``None`` for ids this flow never sends."""
    if choice_id == AGENT:
        return Choice("agent")
    if choice_id == PLATE_OTHER:
        return Choice("plate_other")
    parts = choice_id.split(":")
    if len(parts) not in (2, 3):
        return None
    placa = parts[2] if len(parts) == 3 else None
    if placa is not None and not is_plate(placa):
        return None
    verb, obj = parts[0], parts[1]
    kind = _VERBS.get((verb, obj))
    if kind is not None:
        return Choice(kind, placa=placa)
    if verb == "pay" and len(obj) == 4 and obj.isascii() and obj.isdigit():
        return Choice("pay_vigencia", vigencia=int(obj), placa=placa)
    return None
