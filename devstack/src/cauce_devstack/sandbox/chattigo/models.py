"""The request bodies the Chattigo fake accepts, validated strictly (unknown fields are
refused) so a client bug shows up here rather than as a silently ignored field in
production."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    model_validator,
)

Digits = Annotated[str, Field(pattern=r"^[0-9]{6,20}$")]
HttpUrl = Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2048)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Login(_Strict):
    username: StrictStr = Field(min_length=1)
    password: StrictStr = Field(min_length=1)


class Attachment(_Strict):
    mediaUrl: HttpUrl
    mimeType: Annotated[str, Field(pattern=r"^[\w.+-]+/[\w.+-]+$")]
    fileName: StrictStr | None = Field(default=None, min_length=1, max_length=240)


class OutboundMessage(_Strict):
    id: Annotated[StrictStr, Field(min_length=1, max_length=64)] | StrictInt
    did: Digits
    msisdn: Digits
    type: Literal["text", "media"]
    channel: Literal["WHATSAPP"]
    content: StrictStr = Field(max_length=4096)
    name: StrictStr = Field(min_length=1, max_length=120)
    isAttachment: StrictBool
    attachment: Attachment | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.isAttachment != (self.attachment is not None):
            raise ValueError("attachment is required exactly when isAttachment is true")
        if (self.type == "media") != self.isAttachment:
            raise ValueError("type 'media' goes with isAttachment true, 'text' with false")
        if self.type == "text" and not self.content.strip():
            raise ValueError("content must not be empty for a text message")
        return self


class WebhookRegistration(_Strict):
    waId: Digits
    externalWebhook: HttpUrl
