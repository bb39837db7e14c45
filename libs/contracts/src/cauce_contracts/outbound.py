"""Outbound events: messages to deliver and what became of them.

:class:`OutboundMessageRequested` carries typed content, a union discriminated on
``type``. The limits are WhatsApp Cloud API's (button titles 20 characters, at most
3 reply buttons, 10 list rows...), checked here so a bad message fails at the
producer rather than as a provider error after a round trip. Chattigo forwards the
same Meta formats, so the limits hold there too.

Subjects: ``outbound.<event>.{tenant_id}.{channel}.{contact_key}``; the notifier
handles one contact's messages in order.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from cauce_contracts import subjects
from cauce_contracts.envelope import Contract, Event
from cauce_contracts.fields import ContactKey, LongText, PhoneAddress, ProviderId, ShortText, WebUrl
from cauce_contracts.subjects import Channel

HeaderText = Annotated[str, StringConstraints(min_length=1, max_length=60)]
FooterText = Annotated[str, StringConstraints(min_length=1, max_length=60)]
#: Body of an interactive message (CTA URL, reply buttons).
InteractiveBody = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
#: Button label: WhatsApp cuts nothing, it rejects anything over 20 characters.
ButtonTitle = Annotated[str, StringConstraints(min_length=1, max_length=20)]
ListRowTitle = Annotated[str, StringConstraints(min_length=1, max_length=24)]
ListSectionTitle = Annotated[str, StringConstraints(min_length=1, max_length=24)]
Caption = Annotated[str, StringConstraints(min_length=1, max_length=1024)]

#: WhatsApp's cap on rows across all sections of a list message.
MAX_LIST_ROWS = 10
MAX_REPLY_BUTTONS = 3


def _require_unique(values: list[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{what} must be unique, {value!r} repeats")
        seen.add(value)


class TextContent(Contract):
    """A plain text message."""

    type: Literal["text"] = "text"
    body: Annotated[str, StringConstraints(min_length=1, max_length=4096)]
    #: Let WhatsApp render a preview of the first URL in ``body``.
    preview_url: bool = False


class CtaUrlContent(Contract):
    """An interactive message with one button that opens a URL ("Pagar ahora")."""

    type: Literal["cta_url"] = "cta_url"
    body: InteractiveBody
    display_text: ButtonTitle
    url: WebUrl
    header: HeaderText | None = None
    footer: FooterText | None = None


class ReplyButton(Contract):
    id: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    title: ButtonTitle


class ReplyButtonsContent(Contract):
    """An interactive message with 1 to 3 quick-reply buttons."""

    type: Literal["reply_buttons"] = "reply_buttons"
    body: InteractiveBody
    buttons: list[ReplyButton] = Field(min_length=1, max_length=MAX_REPLY_BUTTONS)
    header: HeaderText | None = None
    footer: FooterText | None = None

    @model_validator(mode="after")
    def _unique_buttons(self) -> Self:
        _require_unique([button.id for button in self.buttons], "button ids")
        _require_unique([button.title for button in self.buttons], "button titles")
        return self


class ListRow(Contract):
    id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    title: ListRowTitle
    description: Annotated[str, StringConstraints(min_length=1, max_length=72)] | None = None


class ListSection(Contract):
    #: Required by WhatsApp when the list has more than one section.
    title: ListSectionTitle | None = None
    rows: list[ListRow] = Field(min_length=1, max_length=MAX_LIST_ROWS)


class ListContent(Contract):
    """An interactive list: a button that opens sections of selectable rows."""

    type: Literal["list"] = "list"
    body: Annotated[str, StringConstraints(min_length=1, max_length=4096)]
    button: ButtonTitle
    sections: list[ListSection] = Field(min_length=1, max_length=10)
    header: HeaderText | None = None
    footer: FooterText | None = None

    @model_validator(mode="after")
    def _whatsapp_list_limits(self) -> Self:
        rows = [row for section in self.sections for row in section.rows]
        if len(rows) > MAX_LIST_ROWS:
            raise ValueError(f"a list holds at most {MAX_LIST_ROWS} rows, got {len(rows)}")
        _require_unique([row.id for row in rows], "row ids")
        if len(self.sections) > 1 and any(s.title is None for s in self.sections):
            raise ValueError("every section needs a title when there are several")
        return self


# --- templates ----------------------------------------------------------------------


class TextParameter(Contract):
    type: Literal["text"] = "text"
    text: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    #: For templates with named parameters (``{{customer_name}}``).
    parameter_name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,64}$")] | None = None


class CurrencyParameter(Contract):
    type: Literal["currency"] = "currency"
    fallback_value: ShortText
    #: ISO 4217 code, e.g. ``COP``.
    code: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    #: Amount times 1000, as WhatsApp wants it.
    amount_1000: int


class DateTimeParameter(Contract):
    type: Literal["date_time"] = "date_time"
    fallback_value: ShortText


class MediaSource(Contract):
    """A media object by public ``link`` or by uploaded media ``id`` (exactly one)."""

    link: WebUrl | None = None
    id: ProviderId | None = None

    @model_validator(mode="after")
    def _exactly_one_source(self) -> Self:
        if (self.link is None) == (self.id is None):
            raise ValueError("give exactly one of link or id")
        return self


class MediaParameter(Contract):
    """An image, video or document in a template header."""

    type: Literal["image", "video", "document"]
    media: MediaSource


class PayloadParameter(Contract):
    """The payload a quick-reply template button sends back."""

    type: Literal["payload"] = "payload"
    payload: Annotated[str, StringConstraints(min_length=1, max_length=1000)]


TemplateParameter = Annotated[
    TextParameter | CurrencyParameter | DateTimeParameter | MediaParameter | PayloadParameter,
    Field(discriminator="type"),
]


class TemplateComponent(Contract):
    """Values for one part of a template (header, body or one button)."""

    type: Literal["header", "body", "button"]
    #: Button kind; required for, and only for, ``type="button"``.
    sub_type: Literal["quick_reply", "url", "copy_code"] | None = None
    #: Button position (0-based); required for, and only for, ``type="button"``.
    index: int | None = Field(default=None, ge=0, le=9)
    parameters: list[TemplateParameter] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _button_fields(self) -> Self:
        is_button = self.type == "button"
        if is_button != (self.sub_type is not None) or is_button != (self.index is not None):
            raise ValueError("sub_type and index are required for buttons and only for buttons")
        return self


class TemplateContent(Contract):
    """An approved template (the only kind allowed outside the 24-hour window)."""

    type: Literal["template"] = "template"
    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,512}$")]
    #: Template language code, e.g. ``es``, ``es_CO``, ``en_US``.
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")]
    components: list[TemplateComponent] = Field(default_factory=list, max_length=20)


# --- media and read receipts ----------------------------------------------------------


class MediaContent(Contract):
    """An image, audio, video, document or sticker, by link or uploaded media id."""

    type: Literal["media"] = "media"
    media_type: Literal["image", "audio", "video", "document", "sticker"]
    link: WebUrl | None = None
    id: ProviderId | None = None
    caption: Caption | None = None
    #: Shown to the recipient for documents only.
    filename: Annotated[str, StringConstraints(min_length=1, max_length=240)] | None = None

    @model_validator(mode="after")
    def _whatsapp_media_rules(self) -> Self:
        if (self.link is None) == (self.id is None):
            raise ValueError("give exactly one of link or id")
        if self.caption is not None and self.media_type in ("audio", "sticker"):
            raise ValueError(f"{self.media_type} messages take no caption")
        if self.filename is not None and self.media_type != "document":
            raise ValueError("only documents take a filename")
        return self


class MarkReadContent(Contract):
    """Mark a received message as read (blue ticks), optionally showing "typing…"."""

    type: Literal["mark_read"] = "mark_read"
    #: The provider's id of the inbound message being marked read.
    message_id: ProviderId
    typing_indicator: bool = False


OutboundContent = Annotated[
    TextContent
    | CtaUrlContent
    | ReplyButtonsContent
    | ListContent
    | TemplateContent
    | MediaContent
    | MarkReadContent,
    Field(discriminator="type"),
]


# --- events ---------------------------------------------------------------------------


class OutboundMessageRequested(Event):
    """Something asks the notifier to deliver a message to a contact.

    ``event_id`` is the request's identity: the notifier sends each request once and
    answers it with :class:`OutboundMessageSent` or :class:`OutboundMessageFailed`.
    """

    EVENT_TYPE = subjects.OUTBOUND_MESSAGE_REQUESTED

    channel: Channel
    #: ``contact_key(recipient, secret)``: the subject token, also echoed on the outcome.
    contact_key: ContactKey
    #: The sending account: Meta phone_number_id, Chattigo DID, YCloud number.
    channel_account_id: ProviderId
    #: Recipient phone address (personal data: never log it in clear).
    recipient: PhoneAddress
    content: OutboundContent
    #: Provider id of an inbound message this one replies to (quoted in WhatsApp).
    reply_to_message_id: ProviderId | None = None
    #: Set when the message belongs to a bulk campaign.
    campaign_id: ShortText | None = None


class CampaignMessageRequested(OutboundMessageRequested):
    """A bulk campaign asks the notifier to deliver its message to one recipient.

    The same request as :class:`OutboundMessageRequested` on its own subject, so a
    campaign's thousands of sends queue apart from conversation replies (which never
    wait behind them) and go to the send path at the campaign's pace. ``event_id`` is
    fixed per (campaign, recipient): a recipient released again is the same request.
    """

    EVENT_TYPE = subjects.OUTBOUND_CAMPAIGN_MESSAGE_REQUESTED

    campaign_id: ShortText
    #: Not before this instant: the dispatcher spreads a round's releases evenly over
    #: the time they stand for, so a campaign reaches the number's rate limiter as a
    #: steady stream (and a reply finds a slot at once) instead of a burst per round.
    #: None (a send released again after it was lost): at once.
    send_after: AwareDatetime | None = None


class _OutboundOutcome(Event):
    channel: Channel
    contact_key: ContactKey
    channel_account_id: ProviderId
    #: ``event_id`` of the :class:`OutboundMessageRequested` this answers.
    request_id: uuid.UUID
    campaign_id: ShortText | None = None


class OutboundMessageSent(_OutboundOutcome):
    """The provider accepted the message."""

    EVENT_TYPE = subjects.OUTBOUND_MESSAGE_SENT

    provider_message_id: ProviderId


class OutboundMessageFailed(_OutboundOutcome):
    """The message could not be delivered to the provider (for good, or retries ran out)."""

    EVENT_TYPE = subjects.OUTBOUND_MESSAGE_FAILED

    #: The provider's error code (Meta's ``error.code``, e.g. ``131047``), as text.
    provider_code: ShortText | None = None
    title: ShortText
    detail: LongText | None = None
    #: True when the failure was transient (429, 5xx) and retries ran out.
    retryable: bool


class OutboundStatusChanged(Event):
    """A sent message's delivery status moved (from the channel's status webhooks)."""

    EVENT_TYPE = subjects.OUTBOUND_STATUS_CHANGED

    channel: Channel
    contact_key: ContactKey
    channel_account_id: ProviderId
    provider_message_id: ProviderId
    status: Literal["sent", "delivered", "read", "failed"]
    status_at: AwareDatetime
    request_id: uuid.UUID | None = None
    error_code: ShortText | None = None
    error_title: ShortText | None = None
