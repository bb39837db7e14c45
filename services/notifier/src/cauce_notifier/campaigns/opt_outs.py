"""Customers stopping (and resuming) marketing campaigns by writing a keyword.

A message that is only an opt-out word (``BAJA``, ``STOP``, ``NO MAS``... in any case,
with or without accents and punctuation) puts the customer on the tenant's suppression
list; an opt-in word (``ALTA``...) takes them off. A word inside a longer message does
not count: "no más preguntas, gracias" is not a request to unsubscribe. Meta's own
``user_preferences`` webhook feeds the same list
(:mod:`~cauce_notifier.campaigns.business_account`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import asyncpg

from cauce_contracts.inbound import InboundMessageReceived, TextMessage

_NOT_LETTERS = re.compile(r"[^A-Z0-9 ]+")


def normalized(text: str) -> str:
    """Upper case, no accents, no punctuation, single spaces: ``¡No más!`` -> ``NO MAS``."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(_NOT_LETTERS.sub(" ", plain.upper()).split())


class OptOutKeywords:
    def __init__(self, pool: asyncpg.Pool, stop: Iterable[str], start: Iterable[str]) -> None:
        self._pool = pool
        self.stop = frozenset(normalized(word) for word in stop)
        self.start = frozenset(normalized(word) for word in start)

    async def heard(self, event: InboundMessageReceived) -> None:
        """Apply a customer's message if it is one of the words (else nothing)."""
        if not isinstance(event.message, TextMessage):
            return
        said = normalized(event.message.body)
        if said in self.stop:
            await self._pool.execute(
                "INSERT INTO notifier.suppressions (tenant_id, contact_key, source, reason)"
                " VALUES ($1, $2, 'keyword', $3) ON CONFLICT (tenant_id, contact_key) DO NOTHING",
                event.tenant_id,
                event.contact_key,
                f"wrote {said}",
            )
        elif said in self.start:
            await self._pool.execute(
                "DELETE FROM notifier.suppressions WHERE tenant_id = $1 AND contact_key = $2",
                event.tenant_id,
                event.contact_key,
            )
