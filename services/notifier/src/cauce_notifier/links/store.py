"""``notifier.short_links``: each short link, what it opens, whose it is, its clicks.

A link's code is derived from what it was made for (a campaign recipient's variable, a
message's button), never from a phone number, so the URL says nothing about who got
it, and making the link again (a recipient released after a pause, a send retried)
gives the same code: the row is written once, the message carries the same text.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class NewLink:
    code: str
    tenant_id: str
    target_url: str
    campaign_id: uuid.UUID | None = None
    recipient_seq: int | None = None
    request_event_id: uuid.UUID | None = None


class ShortLinkStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add(self, links: Sequence[NewLink]) -> None:
        """Store ``links`` in one statement; a code already stored stays as it is."""
        if not links:
            return
        await self._pool.execute(
            "INSERT INTO notifier.short_links (code, tenant_id, target_url, campaign_id,"
            " recipient_seq, request_event_id)"
            " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::uuid[], $5::int[],"
            "   $6::uuid[])"
            " ON CONFLICT (code) DO NOTHING",
            [link.code for link in links],
            [link.tenant_id for link in links],
            [link.target_url for link in links],
            [link.campaign_id for link in links],
            [link.recipient_seq for link in links],
            [link.request_event_id for link in links],
        )

    async def follow(self, code: str, *, count: bool) -> str | None:
        """Where ``code`` leads (None: no such link), counting the click if ``count``."""
        if not count:
            target: str | None = await self._pool.fetchval(
                "SELECT target_url FROM notifier.short_links WHERE code = $1", code
            )
            return target
        found: str | None = await self._pool.fetchval(
            "UPDATE notifier.short_links SET clicks = clicks + 1,"
            " first_clicked_at = coalesce(first_clicked_at, now()),"
            " last_clicked_at = now() WHERE code = $1 RETURNING target_url",
            code,
        )
        return found
