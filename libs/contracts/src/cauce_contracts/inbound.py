"""Inbound events: what a channel told us, in our own typed shape.

Three events travel on ``inbound.>``:

* :class:`InboundMessageReceived` - a customer sent a message; ``message`` is a union
  discriminated on ``type`` with one body per WhatsApp message type.
* :class:`InboundStatusUpdated` - a message we sent moved on (sent, delivered, read,
  failed ...), with the conversation and pricing Meta reports.
* :class:`InboundPayloadUnrecognized` - an *authentic* provider payload (or a part of
  one) we could not turn into the events above, kept verbatim (size-capped) so nothing
  a channel sent is lost and it can be replayed once the parser learns it.

Field names follow Meta's Cloud API webhook reference where they are Meta's concepts
(``caption``, ``mime_type``, ``ctwa_clid`` ...), but only the fields we know are kept:
a provider adding a field does not change the event, and ``extra="forbid"`` keeps our
own producers honest.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal, get_args

from pydantic import AwareDatetime, Field, model_validator

from cauce_contracts.envelope import Contract, Event
from cauce_contracts.fields import ContactKey, ProviderId
from cauce_contracts.subjects import Channel

#: The longest ``payload`` text an :class:`InboundPayloadUnrecognized` carries; longer
#: payloads are cut and flagged ``payload_truncated`` (NATS' default max payload is 1 MiB).
UNRECOGNIZED_PAYLOAD_MAX_CHARS = 256 * 1024

#: A contact address: the digits of an international number (Meta's ``wa_id``).
Address = Annotated[str, Field(pattern=r"^[0-9]{4,20}$")]
#: Provider-supplied free text: may be empty, bounded (captions run to 1024 chars,
#: message bodies to 4096; the bounds leave room).
ShortText = Annotated[str, Field(max_length=1024)]
LongText = Annotated[str, Field(max_length=65536)]


# --------------------------------------------------------------------------- shared parts


class ReportedError(Contract):
    """An error a channel reported in a webhook (a failed status, an unsupported message),
    in Meta's shape (``error_data.details`` flattened to ``details``)."""

    code: int
    title: ShortText | None = None
    message: LongText | None = None
    details: LongText | None = None


class InboundContact(Contract):
    """The customer: their address (digits only) and the profile name they chose."""

    address: Address
    profile_name: ShortText | None = None


class ReferredProduct(Contract):
    """The catalog product a customer asked about ("Message business" on a product)."""

    catalog_id: ProviderId
    product_retailer_id: ProviderId


class MessageContext(Contract):
    """Meta's ``context``: what this message replies to, or that it was forwarded.

    ``message_id`` / ``sender`` are Meta's ``context.id`` / ``context.from``.
    """

    message_id: ProviderId | None = None
    sender: Address | None = None
    forwarded: bool = False
    frequently_forwarded: bool = False
    referred_product: ReferredProduct | None = None


class Referral(Contract):
    """Meta's ``referral``: the ad or post (click-to-WhatsApp) the customer came from."""

    source_url: LongText | None = None
    source_type: ShortText | None = None
    source_id: ShortText | None = None
    headline: LongText | None = None
    body: LongText | None = None
    media_type: ShortText | None = None
    image_url: LongText | None = None
    video_url: LongText | None = None
    thumbnail_url: LongText | None = None
    ctwa_clid: ShortText | None = None


class MediaRef(Contract):
    """A media object: Meta's media ``id`` (download through the Graph API) and/or a
    direct ``url`` (YCloud's ``link``, Chattigo's ``mediaUrl``)."""

    id: ProviderId | None = None
    url: LongText | None = None
    mime_type: ShortText | None = None
    sha256: ShortText | None = None
    caption: LongText | None = None

    @model_validator(mode="after")
    def _id_or_url(self) -> MediaRef:
        if self.id is None and self.url is None:
            raise ValueError("media needs an id or a url")
        return self


# --------------------------------------------------------------------------- message bodies


class _MessageBody(Contract):
    """What every message carries besides its own content."""

    context: MessageContext | None = None
    referral: Referral | None = None


class TextMessage(_MessageBody):
    type: Literal["text"] = "text"
    body: Annotated[str, Field(max_length=65536)]


class ImageMessage(_MessageBody):
    type: Literal["image"] = "image"
    media: MediaRef


class AudioMessage(_MessageBody):
    type: Literal["audio"] = "audio"
    media: MediaRef
    #: True for a voice note recorded in WhatsApp (Meta's ``audio.voice``).
    voice: bool = False


class VideoMessage(_MessageBody):
    type: Literal["video"] = "video"
    media: MediaRef


class DocumentMessage(_MessageBody):
    type: Literal["document"] = "document"
    media: MediaRef
    filename: ShortText | None = None


class StickerMessage(_MessageBody):
    type: Literal["sticker"] = "sticker"
    media: MediaRef
    animated: bool = False


class LocationMessage(_MessageBody):
    type: Literal["location"] = "location"
    latitude: Annotated[float, Field(ge=-90, le=90)]
    longitude: Annotated[float, Field(ge=-180, le=180)]
    name: ShortText | None = None
    address: ShortText | None = None
    url: LongText | None = None


class ContactName(Contract):
    formatted_name: ShortText | None = None
    first_name: ShortText | None = None
    last_name: ShortText | None = None
    middle_name: ShortText | None = None
    suffix: ShortText | None = None
    prefix: ShortText | None = None


class ContactPhone(Contract):
    phone: ShortText | None = None
    wa_id: ShortText | None = None
    type: ShortText | None = None


class ContactEmail(Contract):
    email: ShortText | None = None
    type: ShortText | None = None


class ContactOrg(Contract):
    company: ShortText | None = None
    department: ShortText | None = None
    title: ShortText | None = None


class ContactUrl(Contract):
    url: LongText | None = None
    type: ShortText | None = None


class ContactAddress(Contract):
    street: ShortText | None = None
    city: ShortText | None = None
    state: ShortText | None = None
    zip: ShortText | None = None
    country: ShortText | None = None
    country_code: ShortText | None = None
    type: ShortText | None = None


class SharedContact(Contract):
    """One vCard-like entry of a contacts message (Meta's ``contacts[]`` shape)."""

    name: ContactName = Field(default_factory=ContactName)
    phones: tuple[ContactPhone, ...] = ()
    emails: tuple[ContactEmail, ...] = ()
    org: ContactOrg | None = None
    urls: tuple[ContactUrl, ...] = ()
    addresses: tuple[ContactAddress, ...] = ()
    #: As Meta sends it (``YYYY-MM-DD``), not parsed: cards may carry partial dates.
    birthday: ShortText | None = None


class ContactsMessage(_MessageBody):
    type: Literal["contacts"] = "contacts"
    contacts: Annotated[tuple[SharedContact, ...], Field(min_length=1)]


class ReactionMessage(_MessageBody):
    """A reaction to ``message_id``; ``emoji`` None means the reaction was removed."""

    type: Literal["reaction"] = "reaction"
    message_id: ProviderId
    emoji: Annotated[str, Field(min_length=1, max_length=64)] | None = None

    @property
    def is_removal(self) -> bool:
        return self.emoji is None


class ButtonReply(Contract):
    """The customer tapped a reply button of an interactive message we sent."""

    type: Literal["button_reply"] = "button_reply"
    id: Annotated[str, Field(min_length=1, max_length=256)]
    title: ShortText


class ListReply(Contract):
    """The customer picked a row of an interactive list we sent."""

    type: Literal["list_reply"] = "list_reply"
    id: Annotated[str, Field(min_length=1, max_length=256)]
    title: ShortText
    description: ShortText | None = None


class FlowReply(Contract):
    """The customer completed a WhatsApp Flow (Meta's ``nfm_reply``)."""

    type: Literal["nfm_reply"] = "nfm_reply"
    name: ShortText | None = None
    body: LongText | None = None
    response_json: LongText


InteractiveReply = Annotated[ButtonReply | ListReply | FlowReply, Field(discriminator="type")]


class InteractiveMessage(_MessageBody):
    type: Literal["interactive"] = "interactive"
    reply: InteractiveReply


class ButtonMessage(_MessageBody):
    """A quick-reply button of a *template* was tapped (Meta's ``button`` type)."""

    type: Literal["button"] = "button"
    payload: ShortText | None = None
    text: ShortText


class OrderItem(Contract):
    product_retailer_id: ProviderId
    quantity: Annotated[int, Field(ge=0)]
    item_price: Decimal
    currency: Annotated[str, Field(min_length=3, max_length=3)]


class OrderMessage(_MessageBody):
    type: Literal["order"] = "order"
    catalog_id: ProviderId
    text: LongText | None = None
    product_items: Annotated[tuple[OrderItem, ...], Field(min_length=1)]


class SystemMessage(_MessageBody):
    """A system notice: the customer changed number (``new_wa_id``) or identity."""

    type: Literal["system"] = "system"
    body: LongText | None = None
    #: Meta's ``system.type``: ``user_changed_number``, ``customer_identity_changed`` ...
    system_type: ShortText | None = None
    new_wa_id: Address | None = None
    identity: ShortText | None = None
    customer: ShortText | None = None


class UnsupportedMessage(_MessageBody):
    """A message WhatsApp itself could not deliver to the API (Meta's ``unsupported``,
    formerly ``unknown``), with Meta's reasons."""

    type: Literal["unsupported"] = "unsupported"
    errors: tuple[ReportedError, ...] = ()


InboundMessage = Annotated[
    TextMessage
    | ImageMessage
    | AudioMessage
    | VideoMessage
    | DocumentMessage
    | StickerMessage
    | LocationMessage
    | ContactsMessage
    | ReactionMessage
    | InteractiveMessage
    | ButtonMessage
    | OrderMessage
    | SystemMessage
    | UnsupportedMessage,
    Field(discriminator="type"),
]

#: The ``type`` values of :data:`InboundMessage`, in declaration order.
MESSAGE_TYPES: tuple[str, ...] = tuple(
    body.model_fields["type"].default for body in get_args(get_args(InboundMessage)[0])
)


# --------------------------------------------------------------------------- statuses


class MessageStatus(StrEnum):
    """Where a message we sent is. ``accepted`` is a BSP's own step (YCloud) before
    Meta's ``sent``; ``deleted`` is Meta's legacy "customer deleted it"."""

    ACCEPTED = "accepted"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    DELETED = "deleted"


class StatusConversation(Contract):
    """The conversation (billing window) a status belongs to."""

    id: ProviderId
    origin_type: ShortText | None = None
    expires_at: AwareDatetime | None = None


class StatusPricing(Contract):
    billable: bool | None = None
    pricing_model: ShortText | None = None
    category: ShortText | None = None
    type: ShortText | None = None


# --------------------------------------------------------------------------- events


class InboundMessageReceived(Event):
    """A customer sent ``message`` to one of our channel accounts."""

    EVENT_TYPE = "inbound.message.received"

    channel: Channel
    #: The business side: Meta phone_number_id, Chattigo DID or YCloud number.
    channel_account_id: ProviderId
    #: The provider's message id (Meta's wamid); unique per channel.
    provider_message_id: ProviderId
    contact: InboundContact
    #: ``contact_key(contact.address, secret)``: the subject token for this contact.
    contact_key: ContactKey
    #: When the customer sent it, per the provider.
    sent_at: AwareDatetime
    message: InboundMessage


class InboundStatusUpdated(Event):
    """A message we sent moved to ``status``."""

    EVENT_TYPE = "inbound.status.updated"

    channel: Channel
    channel_account_id: ProviderId
    provider_message_id: ProviderId
    status: MessageStatus
    #: The customer's address; some BSPs (Chattigo) omit it.
    recipient: Address | None = None
    #: ``contact_key(recipient, secret)`` when the recipient is known.
    contact_key: ContactKey | None = None
    timestamp: AwareDatetime
    conversation: StatusConversation | None = None
    pricing: StatusPricing | None = None
    errors: tuple[ReportedError, ...] = ()
    #: Echo of the opaque string we attached when sending (Meta ``biz_opaque_callback_data``).
    biz_opaque_callback_data: Annotated[str, Field(max_length=512)] | None = None


class InboundPayloadUnrecognized(Event):
    """An authentic payload (or part of one) that became no other event, verbatim."""

    EVENT_TYPE = "inbound.unrecognized"

    channel: Channel
    reason: Annotated[str, Field(min_length=1, max_length=2048)]
    channel_account_id: ProviderId | None = None
    #: The payload as text (UTF-8, undecodable bytes replaced), at most
    #: :data:`UNRECOGNIZED_PAYLOAD_MAX_CHARS` characters.
    payload: Annotated[str, Field(max_length=UNRECOGNIZED_PAYLOAD_MAX_CHARS)]
    payload_truncated: bool = False
    #: sha256 (hex) of the full payload bytes, truncated or not.
    payload_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    content_type: ShortText = "application/json"
