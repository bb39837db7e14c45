"""What the inbox API returns and accepts.

Views never carry the customer's phone in clear (``contact_masked`` instead), nor the
service's bookkeeping (``outbox``, ``applied_event_ids``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from cauce_contracts.subjects import Channel
from cauce_conversation.inbox.masking import mask_phone, redact_phones
from cauce_conversation.media_links import MediaLinks
from cauce_conversation.model import (
    Conversation,
    ConversationStatus,
    DeliveryStatus,
    MessageMedia,
    MessageRecord,
)

#: An agent's name as it appears in ``assignee`` and ``agent:<name>`` authors.
AgentName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^\S.*$")
]


class ConversationSummary(BaseModel):
    """A conversation as the inbox lists it."""

    id: str
    tenant_id: str
    channel: Channel
    contact_key: str
    channel_account_id: str
    #: The customer's number with all but the last four digits hidden.
    contact_masked: str
    profile_name: str | None
    flow: str
    step: str
    status: ConversationStatus
    assignee: str | None
    #: True while a human has the conversation (the bot stays silent).
    handed_over: bool
    #: The lead's state as the bot last reported it to the CRM (nuevo, pagado...).
    lead_state: str | None
    last_inbound_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, conversation: Conversation) -> ConversationSummary:
        return cls(
            contact_masked=mask_phone(conversation.contact_address),
            **conversation.model_dump(
                include=set(cls.model_fields) - {"contact_masked"}, mode="python"
            ),
        )


class ConversationDetail(ConversationSummary):
    """One conversation, with the flow's slots (the plate, the chosen vigencias...)."""

    slots: dict[str, Any]

    @classmethod
    def of(cls, conversation: Conversation) -> ConversationDetail:
        summary = ConversationSummary.of(conversation)
        return cls(**summary.model_dump(), slots=redact_phones(conversation.slots))


class ConversationPage(BaseModel):
    items: list[ConversationSummary]
    #: Pass as ``cursor`` for the next page; None when this is the last one.
    next_cursor: str | None


class MediaView(BaseModel):
    """A message's file: ``url`` is a signed link that expires (fetch the messages again
    for a fresh one); a refused file has no url and says why."""

    status: Literal["stored", "refused"]
    content_type: str | None = None
    size: int | None = None
    filename: str | None = None
    url: str | None = None
    reason: str | None = None

    @classmethod
    def of(cls, media: MessageMedia, links: MediaLinks) -> MediaView:
        url = links.link(media.object_name) if media.object_name else None
        return cls(**media.model_dump(include=set(cls.model_fields) - {"url"}), url=url)


class MessageView(BaseModel):
    id: str
    conversation_id: str
    direction: Literal["inbound", "outbound", "note"]
    author: str
    type: str
    text: str | None
    #: The message as received or requested, phone numbers masked.
    payload: dict[str, Any]
    provider_message_id: str | None
    at: datetime
    #: Outbound: how far it got (sent, delivered, read, failed with the reason).
    delivery: DeliveryStatus | None = None
    #: A file the message carries, once kept (or refused).
    media: MediaView | None = None

    @classmethod
    def of(cls, message: MessageRecord, links: MediaLinks | None = None) -> MessageView:
        fields = message.model_dump(include=set(cls.model_fields) - {"payload", "media"})
        media = MediaView.of(message.media, links) if message.media and links else None
        return cls(**fields, payload=redact_phones(message.payload), media=media)


class MessagePage(BaseModel):
    items: list[MessageView]
    next_cursor: str | None


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AssignBody(_Body):
    #: The agent taking the conversation; null puts it back in the unassigned queue.
    assignee: AgentName | None


class StatusBody(_Body):
    status: ConversationStatus


class ReplyBody(_Body):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4096)]
    agent: AgentName


class ReplyAccepted(BaseModel):
    #: The ``outbound.message.requested`` event id; the notifier reports on it.
    event_id: uuid.UUID
    #: The message's id in ``GET /conversations/{id}/messages``.
    message_id: str
    status: Literal["accepted"] = "accepted"


#: Bounds of ``limit`` on list endpoints.
PageLimit = Annotated[int, Field(ge=1, le=200)]
