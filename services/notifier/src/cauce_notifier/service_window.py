"""WhatsApp's 24-hour customer-service window, tracked per contact.

Free-form messages (text, interactive, media) may only go to a contact who wrote to the
business in the last 24 hours; outside it only templates pass. The last inbound time
comes from ``inbound.message.received`` events (the notifier consumes them), so a
message that would be refused by Meta (error 131047) fails fast here, with a clear
reason, without spending a send slot or a provider call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from cauce_contracts.outbound import (
    MarkReadContent,
    MediaContent,
    OutboundContent,
    TemplateComponent,
    TemplateContent,
    TextParameter,
)
from cauce_notifier.providers.text_fallback import as_text

WINDOW = timedelta(hours=24)
#: What WhatsApp refuses in a template parameter: line breaks, tabs, 5+ spaces in a row.
_UNFIT = re.compile(r"[\r\n\t]+| {5,}")
#: The longest text parameter WhatsApp takes.
PARAMETER_CHARS = 1024


def needs_open_window(content: OutboundContent) -> bool:
    """Templates open conversations; reading receipts answer a message just received."""
    return not isinstance(content, TemplateContent | MarkReadContent)


class ServiceWindows:
    def __init__(self, pool: asyncpg.Pool, window: timedelta = WINDOW) -> None:
        self.pool = pool
        self.window = window

    async def record_inbound(
        self, tenant_id: str, channel: str, account_id: str, contact_key: str, at: datetime
    ) -> None:
        """Remember the contact's latest message (an older, redelivered one changes nothing)."""
        await self.pool.execute(
            """
            INSERT INTO notifier.contact_windows
                (tenant_id, channel, channel_account_id, contact_key, last_inbound_at)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (tenant_id, channel, channel_account_id, contact_key) DO UPDATE
                SET last_inbound_at = GREATEST(
                    notifier.contact_windows.last_inbound_at, EXCLUDED.last_inbound_at)
            """,
            tenant_id,
            channel,
            account_id,
            contact_key,
            at,
        )

    def is_open(self, last_inbound_at: datetime | None, now: datetime) -> bool:
        """Whether free-form content may go to a contact whose latest message was at
        ``last_inbound_at`` (read with the request, see ``MessageStore.admit``)."""
        return last_inbound_at is not None and now - last_inbound_at < self.window


@dataclass(frozen=True)
class LateTemplate:
    """An approved template with one body parameter, sent instead of a free-form message
    whose window closed (a payment confirmed a day later, an agent answering the next
    morning): the message's text goes in as the parameter, so it still arrives."""

    name: str
    language: str

    def carrying(self, content: OutboundContent) -> tuple[TemplateContent, str] | None:
        """The template carrying ``content``'s text and what was changed; None when the
        content has no text to carry (a sticker, a document without caption)."""
        if isinstance(content, MediaContent | TemplateContent | MarkReadContent):
            text = content.caption if isinstance(content, MediaContent) else None
        else:
            text, _ = as_text(content)
        if not text:
            return None
        value = _UNFIT.sub(" / ", text).strip(" /")[:PARAMETER_CHARS]
        template = TemplateContent(
            name=self.name,
            language=self.language,
            components=[TemplateComponent(type="body", parameters=[TextParameter(text=value)])],
        )
        return template, (
            f"outside the 24-hour window: sent as template {self.name} ({self.language})"
        )
