"""Customers' media, kept by cauce: the notifier downloads the file an inbound message
references (Meta's media id through the Graph API, or a BSP's URL) into the ``media``
object store under its company, and says so; the conversation shows it to agents by
signed, expiring links.

* :class:`InboundMediaStored` - the file is in the store as ``object_name``.
* :class:`InboundMediaRefused` - it will not be: too large, a type cauce does not
  keep, or gone at the provider. The message stays, without its file.

Subjects: ``inbound.media.{stored|refused}.{tenant_id}.{channel}.{contact_key}``.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import Field

from cauce_contracts import subjects
from cauce_contracts.envelope import Event
from cauce_contracts.fields import ContactKey, ProviderId
from cauce_contracts.subjects import Channel

#: The JetStream object store holding every company's media (``{company}/{sha256}``).
MEDIA_BUCKET: Final = "media"

#: The file types WhatsApp sends and receives (images, stickers, audio, video,
#: documents): what cauce keeps by default. Never HTML, SVG or scripts.
WHATSAPP_MEDIA_TYPES: Final = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "audio/aac",
        "audio/amr",
        "audio/mpeg",
        "audio/mp4",
        "audio/ogg",
        "video/mp4",
        "video/3gpp",
        "text/plain",
        "application/pdf",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    }
)

MediaRefusal = Literal["too_large", "type_not_allowed", "unavailable", "no_account"]


class _AboutInboundMedia(Event):
    channel: Channel
    channel_account_id: ProviderId
    #: The message the file came with (the conversation's ``{channel}:{id}``).
    provider_message_id: ProviderId
    contact_key: ContactKey


class InboundMediaStored(_AboutInboundMedia):
    """A customer's file is in the ``media`` object store."""

    EVENT_TYPE = subjects.INBOUND_MEDIA_STORED

    #: ``{tenant_id}/{sha256 hex}``: the company's own prefix, the content's hash.
    object_name: Annotated[str, Field(min_length=3, max_length=200)]
    content_type: Annotated[str, Field(min_length=3, max_length=100)]
    size: Annotated[int, Field(ge=0)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    filename: Annotated[str, Field(max_length=255)] | None = None


class InboundMediaRefused(_AboutInboundMedia):
    """A customer's file was not kept, and why."""

    EVENT_TYPE = subjects.INBOUND_MEDIA_REFUSED

    reason: MediaRefusal
    detail: Annotated[str, Field(max_length=1024)]
