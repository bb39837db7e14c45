"""Channel accounts: who the notifier sends as, and the credentials it sends with.

Shared by the store (which persists them encrypted), the admin API and the provider
clients. Credentials are ``SecretStr`` so they never appear in reprs or logs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, SecretStr

from cauce_contracts.subjects import Channel

#: The channels the notifier sends through (the others only send webhooks to us).
SENDING_CHANNELS: frozenset[Channel] = frozenset(
    {Channel.WHATSAPP, Channel.CHATTIGO, Channel.YCLOUD}
)


def sending_channel(value: Channel | str) -> Channel:
    """``value`` as a channel the notifier sends through (:class:`ValueError` else)."""
    channel = Channel(value)
    if channel not in SENDING_CHANNELS:
        raise ValueError(f"the notifier does not send through {channel.value}")
    return channel


#: A :class:`~cauce_contracts.subjects.Channel` the notifier can send through.
SendingChannel = Annotated[Channel, AfterValidator(sending_channel)]


class WhatsAppCredentials(BaseModel):
    """Meta WhatsApp Cloud API: a system-user access token."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    access_token: SecretStr


class ChattigoCredentials(BaseModel):
    """Chattigo BSP: login credentials exchanged for a short-lived bearer token."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    username: str
    password: SecretStr
    bot_name: str = "cauce"


class YCloudCredentials(BaseModel):
    """YCloud: an API key sent as ``X-API-Key``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_key: SecretStr


Credentials = WhatsAppCredentials | ChattigoCredentials | YCloudCredentials

#: Which credentials model each channel takes.
CREDENTIALS_MODELS: dict[Channel, type[BaseModel]] = {
    Channel.WHATSAPP: WhatsAppCredentials,
    Channel.CHATTIGO: ChattigoCredentials,
    Channel.YCLOUD: YCloudCredentials,
}


@dataclass(frozen=True)
class ChannelAccount:
    """One sending identity on one channel, owned by one tenant."""

    id: uuid.UUID
    tenant_id: str
    channel: Channel
    #: Meta phone_number_id / Chattigo DID / YCloud sender number (digits).
    account_id: str
    display_name: str | None
    rate_per_second: float
    credentials: Credentials
    credentials_status: Literal["ok", "failing"]
    #: The WhatsApp Business Account (WABA) the number belongs to: where its message
    #: templates live. WhatsApp Cloud API accounts only; None until an operator sets it.
    business_account_id: str | None = None
