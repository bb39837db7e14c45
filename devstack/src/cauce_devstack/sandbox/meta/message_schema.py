"""Shapes the Graph fake accepts on the messages endpoint, with Meta's limits. Unknown
fields inside a message object are refused, so a typo in our own payload builders fails
here instead of being silently ignored.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from cauce_devstack.sandbox.meta.errors import (
    GraphError,
    invalid_parameter,
    parameter_value_invalid,
)

#: The ``type`` of a send request Meta accepts.
MessageType = Literal[
    "text",
    "interactive",
    "template",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "reaction",
]
MESSAGE_TYPES: tuple[str, ...] = get_args(MessageType)
_PHONE_CHARS = re.compile(r"^\+?[0-9 ()\-]{5,30}$")
VALUE_NOT_VALID = "value_not_valid"
"""Error type of our own validators for limits Meta answers with 131009."""
_LIMIT_ERRORS = frozenset(
    {
        VALUE_NOT_VALID,
        "string_too_long",
        "too_long",
        "too_short",
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
    }
)


def _limit(message: str) -> PydanticCustomError:
    return PydanticCustomError(VALUE_NOT_VALID, message)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Text(_Strict):
    body: str = Field(min_length=1, max_length=4096)
    preview_url: bool = False


class _Media(_Strict):
    id: str | None = None
    link: str | None = None

    @model_validator(mode="after")
    def _id_or_link(self) -> _Media:
        if (self.id is None) == (self.link is None):
            raise ValueError("exactly one of 'id' or 'link' is required")
        if self.link is not None and not self.link.startswith(("https://", "http://")):
            raise ValueError("'link' must be an http(s) URL")
        return self


class Audio(_Media):
    pass


class Sticker(_Media):
    pass


class Image(_Media):
    caption: str | None = Field(default=None, max_length=1024)


class Video(_Media):
    caption: str | None = Field(default=None, max_length=1024)


class Document(_Media):
    caption: str | None = Field(default=None, max_length=1024)
    filename: str | None = Field(default=None, max_length=240)


class Location(_Strict):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    name: str | None = None
    address: str | None = None


class ContactName(_Open):
    formatted_name: str = Field(min_length=1)


class ContactCard(_Open):
    name: ContactName


class Reaction(_Strict):
    message_id: str = Field(min_length=1)
    emoji: str  # "" removes the reaction


class TemplateLanguage(_Strict):
    code: str = Field(min_length=2)
    policy: Literal["deterministic"] | None = None


class Template(_Strict):
    name: str = Field(min_length=1, max_length=512)
    language: TemplateLanguage
    components: list[dict[str, Any]] | None = None


class Header(_Strict):
    type: Literal["text", "image", "video", "document"]
    text: str | None = Field(default=None, min_length=1, max_length=60)
    image: Image | None = None
    video: Video | None = None
    document: Document | None = None

    @model_validator(mode="after")
    def _matching_object(self) -> Header:
        if getattr(self, self.type) is None:
            raise ValueError(f"header of type '{self.type}' needs a '{self.type}' object")
        return self


class Body(_Strict):
    text: str = Field(min_length=1, max_length=1024)


class Footer(_Strict):
    text: str = Field(min_length=1, max_length=60)


class ReplyButtonReply(_Strict):
    id: str = Field(min_length=1, max_length=256)
    title: str = Field(min_length=1, max_length=20)


class ReplyButton(_Strict):
    type: Literal["reply"]
    reply: ReplyButtonReply


class ButtonAction(_Strict):
    buttons: list[ReplyButton] = Field(min_length=1, max_length=3)

    @model_validator(mode="after")
    def _unique(self) -> ButtonAction:
        ids = [b.reply.id for b in self.buttons]
        titles = [b.reply.title for b in self.buttons]
        if len(set(ids)) != len(ids) or len(set(titles)) != len(titles):
            raise _limit("button ids and titles must be unique")
        return self


class ButtonInteractive(_Strict):
    type: Literal["button"]
    header: Header | None = None
    body: Body
    footer: Footer | None = None
    action: ButtonAction


class ListRow(_Strict):
    id: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=24)
    description: str | None = Field(default=None, max_length=72)


class ListSection(_Strict):
    title: str | None = Field(default=None, min_length=1, max_length=24)
    rows: list[ListRow] = Field(min_length=1, max_length=10)


class ListAction(_Strict):
    button: str = Field(min_length=1, max_length=20)
    sections: list[ListSection] = Field(min_length=1, max_length=10)

    @model_validator(mode="after")
    def _limits(self) -> ListAction:
        rows = [row for section in self.sections for row in section.rows]
        if len(rows) > 10:
            raise _limit("a list message has at most 10 rows in total")
        if len({row.id for row in rows}) != len(rows):
            raise _limit("row ids must be unique")
        if len(self.sections) > 1 and any(s.title is None for s in self.sections):
            raise _limit("every section needs a title when there is more than one")
        return self


class ListInteractive(_Strict):
    type: Literal["list"]
    header: Header | None = None
    body: Body
    footer: Footer | None = None
    action: ListAction

    @field_validator("header")
    @classmethod
    def _text_header_only(cls, header: Header | None) -> Header | None:
        if header is not None and header.type != "text":
            raise _limit("list messages only take a text header")
        return header


class CtaUrlParameters(_Strict):
    display_text: str = Field(min_length=1, max_length=20)
    url: str = Field(min_length=1, max_length=2000)

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not url.startswith(("https://", "http://")):
            raise ValueError("url must be an http(s) URL")
        return url


class CtaUrlAction(_Strict):
    name: Literal["cta_url"]
    parameters: CtaUrlParameters


class CtaUrlInteractive(_Strict):
    type: Literal["cta_url"]
    header: Header | None = None
    body: Body | None = None
    footer: Footer | None = None
    action: CtaUrlAction


class OtherInteractive(_Open):
    """Interactive types the sandbox does not check in detail (yet)."""

    type: Literal[
        "product",
        "product_list",
        "catalog_message",
        "flow",
        "location_request_message",
        "address_message",
        "call_permission_request",
    ]
    action: dict[str, Any]


Interactive = Annotated[
    ButtonInteractive | ListInteractive | CtaUrlInteractive | OtherInteractive,
    Field(discriminator="type"),
]


class Context(_Strict):
    message_id: str = Field(min_length=1)


class OutboundMessage(_Strict):
    """A message send request (anything but mark-as-read)."""

    messaging_product: Literal["whatsapp"]
    recipient_type: Literal["individual"] = "individual"
    to: str
    type: MessageType = "text"
    context: Context | None = None
    biz_opaque_callback_data: str | None = Field(default=None, max_length=512)
    text: Text | None = None
    interactive: Interactive | None = None
    template: Template | None = None
    image: Image | None = None
    audio: Audio | None = None
    video: Video | None = None
    document: Document | None = None
    sticker: Sticker | None = None
    location: Location | None = None
    contacts: list[ContactCard] | None = Field(default=None, min_length=1)
    reaction: Reaction | None = None

    @field_validator("to")
    @classmethod
    def _phone(cls, to: str) -> str:
        if not _PHONE_CHARS.match(to) or sum(c.isdigit() for c in to) < 5:
            raise ValueError("'to' must be a phone number")
        return to

    @model_validator(mode="after")
    def _matching_object(self) -> OutboundMessage:
        if getattr(self, self.type) is None:
            raise ValueError(f"messages of type '{self.type}' need a '{self.type}' object")
        for other in MESSAGE_TYPES:
            if other != self.type and getattr(self, other) is not None:
                raise ValueError(f"'{other}' object given for a message of type '{self.type}'")
        return self

    @property
    def wa_id(self) -> str:
        return "".join(c for c in self.to if c.isdigit())


class TypingIndicator(_Strict):
    type: Literal["text"]


class ReadReceipt(_Strict):
    """Mark-as-read, optionally showing a typing indicator."""

    messaging_product: Literal["whatsapp"]
    status: Literal["read"]
    message_id: str = Field(min_length=1)
    typing_indicator: TypingIndicator | None = None


def _describe(error: ValidationError) -> tuple[str, str]:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"] if not str(part).startswith("function"))
    message = str(first["msg"]).removeprefix("Value error, ")
    return str(
        first["type"]
    ), f"Parameter value is not valid: {where}: {message}" if where else message


def parse_request(body: object) -> OutboundMessage | ReadReceipt:
    """Validate a messages-endpoint body; raise Meta's ``(#100)``/``(#131009)`` error."""
    if not isinstance(body, dict):
        raise invalid_parameter("The request body must be a JSON object.")
    if body.get("messaging_product") != "whatsapp":
        raise invalid_parameter(
            "The parameter messaging_product is required and must be 'whatsapp'."
        )
    model: type[OutboundMessage] | type[ReadReceipt] = (
        ReadReceipt if "status" in body else OutboundMessage
    )
    try:
        return model.model_validate(body)
    except ValidationError as error:
        kind, details = _describe(error)
        if kind in _LIMIT_ERRORS:
            raise parameter_value_invalid(details) from None
        raise invalid_parameter(details) from None


__all__ = ["GraphError", "OutboundMessage", "ReadReceipt", "parse_request"]
