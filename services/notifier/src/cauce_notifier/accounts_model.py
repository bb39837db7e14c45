"""Channel accounts: who the notifier sends as, and the credentials it sends with.

Shared by the store (which persists them encrypted), the admin API and the provider
clients. Credentials are ``SecretStr`` so they never appear in reprs or logs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, SecretStr


class ChannelKind(StrEnum):
    """Outbound channels; values equal ``cauce_contracts.subjects.Channel`` values."""

    WHATSAPP = "whatsapp"
    CHATTIGO = "chattigo"
    YCLOUD = "ycloud"


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
CREDENTIALS_MODELS: dict[ChannelKind, type[BaseModel]] = {
    ChannelKind.WHATSAPP: WhatsAppCredentials,
    ChannelKind.CHATTIGO: ChattigoCredentials,
    ChannelKind.YCLOUD: YCloudCredentials,
}


@dataclass(frozen=True)
class ChannelAccount:
    """One sending identity on one channel, owned by one tenant."""

    id: uuid.UUID
    tenant_id: str
    channel: ChannelKind
    #: Meta phone_number_id / Chattigo DID / YCloud sender number (digits).
    account_id: str
    display_name: str | None
    rate_per_second: float
    credentials: Credentials
    credentials_status: Literal["ok", "failing"]
