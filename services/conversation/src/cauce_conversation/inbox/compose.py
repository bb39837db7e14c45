"""What an agent may send in a chat, and what it becomes on the wire.

One of: ``text``; a ``quick_reply`` (the company's canned text, variables filled in);
``media`` (a file uploaded with ``POST /api/chats/media``, with a caption); a
``sticker`` (one of the company's); a ``template`` (approved at Meta: the only kind
WhatsApp takes outside the 24-hour window). Files go to the provider as a signed link
to this service (``CAUCE_MEDIA_PUBLIC_BASE_URL``) that lasts
``CAUCE_MEDIA_PROVIDER_LINK_TTL_S``; the provider fetches them when it sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import HTTPException
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from cauce_contracts.outbound import MediaContent, OutboundContent, TemplateContent, TextContent
from cauce_conversation.bootstrap import ConversationService
from cauce_conversation.inbox.quick_replies import QuickReplies, render
from cauce_conversation.inbox.uploads import FileId, sticker_of, uploaded
from cauce_conversation.model import Conversation, MessageMedia
from cauce_runtime.bus import StoredFile, file_name

MediaType = Literal["image", "audio", "video", "document"]


class MediaReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: The uploaded file's id.
    id: FileId
    #: How WhatsApp shows it (None: from its type; anything may go as a document).
    media_type: MediaType | None = None
    caption: Annotated[str, StringConstraints(max_length=1024)] | None = None


class ChatReply(BaseModel):
    """Exactly one of text, quick_reply, media, sticker or template."""

    model_config = ConfigDict(extra="forbid")

    text: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4096)]
        | None
    ) = None
    quick_reply: Annotated[str, StringConstraints(max_length=40)] | None = None
    variables: dict[str, Annotated[str, StringConstraints(max_length=1024)]] = Field(
        default_factory=dict
    )
    media: MediaReply | None = None
    sticker: FileId | None = None
    template: TemplateContent | None = None

    def kind(self) -> str:
        given = [
            name
            for name in ("text", "quick_reply", "media", "sticker", "template")
            if getattr(self, name) is not None
        ]
        if len(given) != 1:
            raise HTTPException(
                422, "send exactly one of text, quick_reply, media, sticker or template"
            )
        return given[0]


@dataclass(frozen=True)
class Composed:
    content: OutboundContent
    #: What the chat's history shows.
    shown: str | None
    media: MessageMedia | None = None


async def compose(
    service: ConversationService, conversation: Conversation, body: ChatReply
) -> Composed:
    company = conversation.tenant_id
    match body.kind():
        case "text":
            assert body.text is not None
            return Composed(TextContent(body=body.text), body.text)
        case "quick_reply":
            assert body.quick_reply is not None
            reply = await QuickReplies.of(service).get(company, body.quick_reply)
            if reply is None:
                raise HTTPException(422, f"no quick reply {body.quick_reply}")
            text = render(reply, conversation, body.variables)
            return Composed(TextContent(body=text), text)
        case "media":
            assert body.media is not None
            stored = await uploaded(service, company, body.media.id)
            media_type = body.media.media_type or _media_type(stored.content_type)
            return _file(service, stored, media_type, body.media.caption)
        case "sticker":
            assert body.sticker is not None
            sticker = await sticker_of(service, company, body.sticker)
            stored = await uploaded(service, company, sticker.id)
            return _file(service, stored, "sticker", None)
        case _:
            assert body.template is not None
            return Composed(body.template, f"[template {body.template.name}]")


def _media_type(content_type: str) -> MediaType:
    major = content_type.split("/", 1)[0]
    if content_type in ("image/jpeg", "image/png"):
        return "image"
    if major in ("audio", "video"):
        return major  # type: ignore[return-value]
    return "document"


def _file(
    service: ConversationService,
    stored: StoredFile,
    media_type: Literal["image", "audio", "video", "document", "sticker"],
    caption: str | None,
) -> Composed:
    base = service.settings.media_public_base_url
    if base is None:
        raise HTTPException(
            409, "sending files needs CAUCE_MEDIA_PUBLIC_BASE_URL (where providers fetch them)"
        )
    ttl = service.settings.media_provider_link_ttl_s
    link = base.rstrip("/") + service.media_links.link(
        file_name(stored.company_id, stored.sha256), ttl_s=ttl
    )
    try:
        content = MediaContent(
            media_type=media_type,
            link=link,
            caption=caption or None,
            filename=stored.filename if media_type == "document" else None,
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    media = MessageMedia(
        status="stored",
        object_name=stored.name,
        content_type=stored.content_type,
        size=stored.size,
        filename=stored.filename,
    )
    return Composed(content, caption or f"[{media_type}]", media)
