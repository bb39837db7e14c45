"""The customer simulator: plays a WhatsApp user (or Meta's delivery pipeline) toward the
gateway, so a whole conversation runs locally without a phone.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

import httpx
from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cauce_devstack.sandbox.bootstrap import Sandbox, SandboxDep
from cauce_devstack.sandbox.meta import webhooks as mw
from cauce_devstack.sandbox.meta.accounts import display_number, waba_of
from cauce_devstack.sandbox.meta.gateway_webhooks import post_once, webhook_url
from cauce_devstack.sandbox.meta.webhooks import INBOUND_MESSAGE_TYPES

if TYPE_CHECKING:
    from cauce_devstack.sandbox.settings import SandboxSettings


class MessageContent(BaseModel):
    """A Meta inbound message body without ``from``/``id``/``timestamp``.

    E.g. ``{"type": "text", "text": {"body": "hola"}}``,
    ``{"type": "reaction", "reaction": {"message_id": "wamid..."}}`` (removal),
    ``{"type": "unsupported", "errors": [...]}``.
    """

    model_config = ConfigDict(extra="allow")

    type: str = Field(
        description="One of Meta's inbound types: " + ", ".join(INBOUND_MESSAGE_TYPES)
    )

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in INBOUND_MESSAGE_TYPES:
            raise ValueError(f"type must be one of {', '.join(INBOUND_MESSAGE_TYPES)}")
        return value

    @model_validator(mode="after")
    def _typed_object(self) -> MessageContent:
        key = "errors" if self.type == "unsupported" else self.type
        if key not in (self.model_extra or {}):
            raise ValueError(f"a '{self.type}' message needs a '{key}' field")
        return self


class StatusSpec(BaseModel):
    message_id: str
    status: Literal["sent", "delivered", "read", "failed"]
    recipient_id: str | None = None
    """Defaults to the request's ``from``."""
    timestamp: int | None = None
    errors: list[dict[str, Any]] | None = None
    pricing: dict[str, Any] | None = None
    conversation: dict[str, Any] | None = None
    biz_opaque_callback_data: str | None = None


class CustomerSend(BaseModel):
    """Who writes to which business number, and what: one of text/message/status."""

    model_config = ConfigDict(populate_by_name=True)

    phone_number_id: str | None = None
    display_phone_number: str | None = None
    waba_id: str | None = None
    from_: str = Field(default="573001234567", alias="from", pattern=r"^[0-9]{5,20}$")
    name: str = "Cliente Sandbox"
    text: str | None = Field(default=None, description="Shorthand for a text message")
    message: MessageContent | None = None
    status: StatusSpec | None = None
    message_id: str | None = Field(default=None, description="Force the wamid (redeliveries)")
    timestamp: int | None = None
    context: dict[str, Any] | None = None
    referral: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> CustomerSend:
        given = [x for x in (self.text, self.message, self.status) if x is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'text', 'message' or 'status'")
        return self


class CustomerSendResult(BaseModel):
    gateway_status: int
    gateway_body: Any
    message_id: str
    payload: dict[str, Any]


def build_payload(send: CustomerSend, settings: SandboxSettings) -> tuple[str, dict[str, Any]]:
    """The webhook for ``send`` and the id of the message (or status) it carries."""
    phone_number_id = send.phone_number_id or settings.default_phone_number_id
    display = send.display_phone_number or settings.default_display_phone_number
    waba_id = send.waba_id or waba_of(settings, phone_number_id)
    if send.status is not None:
        spec = send.status
        item = mw.status(
            spec.message_id,
            spec.status,
            spec.recipient_id or send.from_,
            timestamp=spec.timestamp,
            errors=spec.errors,
            pricing=spec.pricing,
            conversation=spec.conversation,
            biz_opaque_callback_data=spec.biz_opaque_callback_data,
        )
        value = mw.statuses_value(phone_number_id, display, [item])
        return spec.message_id, mw.webhook([value], waba_id)

    content = mw.text(send.text) if send.text is not None else _content(send.message)
    message = mw.inbound_message(
        send.from_,
        content,
        message_id=send.message_id,
        timestamp=send.timestamp,
        context=send.context,
        referral=send.referral,
    )
    value = mw.messages_value(
        phone_number_id, display, [mw.contact(send.from_, send.name)], [message]
    )
    return str(message["id"]), mw.webhook([value], waba_id)


def _content(message: MessageContent | None) -> dict[str, Any]:
    assert message is not None
    return message.model_dump(mode="json")


router = APIRouter(prefix="/sandbox/customer", tags=["sandbox"])


@router.post("/send", response_model=CustomerSendResult)
async def customer_send(send: CustomerSend, sandbox: SandboxDep) -> CustomerSendResult:
    """Build the webhook Meta would post for ``send`` (a message or a status), sign the
    exact bytes with the app secret, post them to the gateway's ``/webhooks/whatsapp``
    and report what the gateway answered. A message (re)opens the customer's 24 h
    service window; one with a ``referral`` (an ad, a Page's call to action) is also an
    entry point: answered within 24 h, it opens 72 h of free messages."""
    settings = sandbox.settings
    message_id, payload = build_payload(send, settings)
    if send.status is None and send.message is not None:  # a file to download, if any
        sandbox.media.sample_for(
            send.phone_number_id or settings.default_phone_number_id, _content(send.message)
        )
    if send.status is None:  # the customer wrote: their 24 h service window (re)opens
        sandbox.service_windows.record(
            send.phone_number_id or settings.default_phone_number_id,
            send.from_,
            entry_point=send.referral is not None,  # from an ad or a Page's call to action
        )
    status, gateway_body = await _post(sandbox, payload)
    return CustomerSendResult(
        gateway_status=status, gateway_body=gateway_body, message_id=message_id, payload=payload
    )


async def _post(sandbox: Sandbox, payload: dict[str, Any]) -> tuple[int, Any]:
    """Post one signed webhook; the gateway's status and body (502 if it is not there)."""
    settings = sandbox.settings
    try:
        answer = await post_once(sandbox.gateway_client.http, settings, payload)
    except httpx.HTTPError as error:
        raise HTTPException(
            502, f"gateway at {webhook_url(settings)} did not answer: {error!r}"
        ) from None
    try:
        gateway_body: Any = answer.json()
    except json.JSONDecodeError:
        gateway_body = answer.text
    return answer.status_code, gateway_body


class PreferenceSend(BaseModel):
    """A customer stops or resumes marketing messages from a business number."""

    model_config = ConfigDict(populate_by_name=True)

    phone_number_id: str | None = None
    display_phone_number: str | None = None
    waba_id: str | None = None
    from_: str = Field(default="573001234567", alias="from", pattern=r"^[0-9]{5,20}$")
    name: str | None = "Cliente Sandbox"
    """The profile name in ``contacts[]``; ``null`` leaves the profile out."""
    value: Literal["stop", "resume"]
    detail: str | None = None
    """Defaults to Meta's ``User requested to stop (resume) marketing messages``."""
    timestamp: int | None = None


class PreferenceSendResult(BaseModel):
    gateway_status: int
    gateway_body: Any
    payload: dict[str, Any]


@router.post(
    "/preferences",
    response_model=PreferenceSendResult,
    summary="A customer stops or resumes marketing messages",
)
async def customer_preferences(send: PreferenceSend, sandbox: SandboxDep) -> PreferenceSendResult:
    """The customer changes WhatsApp's marketing setting for a business number: build
    Meta's ``user_preferences`` webhook (``field: user_preferences``, ``metadata``,
    ``contacts``, ``user_preferences: [{wa_id, detail, category: marketing_messages,
    value, timestamp}]``), sign it like the simulator's messages, post it to the
    gateway and report its answer. From a ``stop`` until a ``resume``, the Graph fake
    accepts marketing templates to this customer from that number and then reports
    each ``failed`` with 131050, as Meta does."""
    settings = sandbox.settings
    phone_number_id = send.phone_number_id or settings.default_phone_number_id
    sandbox.marketing_preferences.set(phone_number_id, send.from_, send.value)
    value = mw.user_preferences_value(
        phone_number_id,
        send.display_phone_number or display_number(settings, phone_number_id),
        send.from_,
        send.value,
        name=send.name,
        detail=send.detail,
        timestamp=send.timestamp,
    )
    waba_id = send.waba_id or waba_of(settings, phone_number_id)
    payload = mw.account_webhook("user_preferences", value, waba_id)
    status, gateway_body = await _post(sandbox, payload)
    return PreferenceSendResult(gateway_status=status, gateway_body=gateway_body, payload=payload)
