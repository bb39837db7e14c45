"""What a payment link pays, and its idempotency key.

The key is derived from what is paid (plate and declarations), never from the attempt:
asking again for the same debt (a "Reintentar" tap, a redelivered turn) carries the
same key, and payments answers it with the same SCI transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from cauce_contracts.payments import PaymentItem
from cauce_conversation.flows.vehicle_tax.slots import DebtSlot

#: :class:`~cauce_contracts.payments.PaymentLinkRequested` takes at most 20 items.
MAX_ITEMS_PER_LINK = 20
#: A request key is a subject token of at most 128 characters.
_MAX_KEY = 128


def payment_items(debts: Iterable[DebtSlot]) -> tuple[PaymentItem, ...]:
    """Items paying ``debts``: oldest vigencia first, nothing owed left out, one per
    declaración, at most :data:`MAX_ITEMS_PER_LINK`."""
    seen: set[int] = set()
    items: list[PaymentItem] = []
    for debt in sorted(debts, key=lambda d: (d.vigencia, d.declaracion)):
        if debt.total <= 0 or debt.declaracion in seen:
            continue
        seen.add(debt.declaracion)
        items.append(
            PaymentItem(declaracion=debt.declaracion, vigencia=debt.vigencia, amount=debt.total)
        )
    return tuple(items[:MAX_ITEMS_PER_LINK])


def request_key(placa: str, items: Iterable[PaymentItem]) -> str:
    """``HHO137-108818889`` (plate, then the sorted declaraciones joined by ``-``).

    Keys longer than a subject token allows (many declaraciones) become the plate and a
    SHA-256 digest of the same text: still derived from what is paid only.
    """
    declaraciones = "-".join(str(d) for d in sorted(item.declaracion for item in items))
    key = f"{placa}-{declaraciones}"
    if len(key) <= _MAX_KEY:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"{placa}-h{digest}"
