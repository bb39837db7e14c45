"""Turning URLs into short links: a campaign's URL variables, a reply's URL button.

Only whole ``http(s)`` URLs are shortened: a template's URL button takes a suffix
(``pay/123``), not a URL, and stays as it is. A link's code is an HMAC of what it was
made for, keyed with a secret derived from ``CAUCE_CONTACT_KEY_SECRET``: unguessable,
stable across retries, free of phone numbers.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
from collections.abc import Sequence
from urllib.parse import urlsplit

from cauce_contracts.outbound import CtaUrlContent, OutboundMessageRequested
from cauce_notifier.campaigns.recipients import Release
from cauce_notifier.campaigns.store import Campaign
from cauce_notifier.links.store import NewLink, ShortLinkStore

#: Characters of a code: 12 of URL-safe base64, 72 bits.
CODE_CHARS = 12


def is_url(value: str) -> bool:
    """Whether ``value`` is one whole http(s) URL (nothing around it)."""
    if not value.startswith(("http://", "https://")) or any(c.isspace() for c in value):
        return False
    return bool(urlsplit(value).netloc)


class Shortener:
    def __init__(self, base_url: str, secret: bytes, store: ShortLinkStore) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = hmac.new(secret, b"cauce short links", hashlib.sha256).digest()
        self.store = store

    def code(self, *made_for: str) -> str:
        digest = hmac.new(self._key, "\x1f".join(made_for).encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:CODE_CHARS]

    def url(self, code: str) -> str:
        return f"{self.base_url}/l/{code}"

    def _wants(self, value: str) -> bool:
        return is_url(value) and not value.startswith(self.base_url + "/")

    async def campaign_releases(
        self, campaign: Campaign, releases: Sequence[Release]
    ) -> list[Release]:
        """``releases`` with each URL variable replaced by its recipient's short link."""
        links: list[NewLink] = []
        shortened: list[Release] = []
        for release in releases:
            values = list(release.variables)
            for index, value in enumerate(values):
                if self._wants(value):
                    code = self.code("campaign", str(campaign.id), str(release.seq), str(index))
                    links.append(
                        NewLink(
                            code,
                            campaign.tenant_id,
                            value,
                            campaign_id=campaign.id,
                            recipient_seq=release.seq,
                            request_event_id=release.request_event_id,
                        )
                    )
                    values[index] = self.url(code)
            shortened.append(dataclasses.replace(release, variables=tuple(values)))
        await self.store.add(links)
        return shortened

    async def reply(self, event: OutboundMessageRequested) -> OutboundMessageRequested:
        """``event`` with its URL button (the bot's payment link) as a short link."""
        content = event.content
        if not isinstance(content, CtaUrlContent) or not self._wants(str(content.url)):
            return event
        code = self.code("message", str(event.event_id))
        target = str(content.url)
        link = NewLink(code, event.tenant_id, target, request_event_id=event.event_id)
        await self.store.add([link])
        return event.model_copy(
            update={"content": content.model_copy(update={"url": self.url(code)})}
        )
