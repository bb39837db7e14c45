"""Which company a channel account belongs to, live: the routes the notifier (owner of
channel accounts) keeps in a JetStream KV bucket and the gateway follows, so a number
added through the API receives its webhooks without a restart or an environment change.

One entry per account, keyed ``{channel}.{account id}`` (phone-number accounts by their
digits, as the gateway matches them); deleting the account deletes the entry.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from cauce_contracts.subjects import Channel

CHANNEL_ROUTES_BUCKET = "channel-routes"

#: Channels whose accounts are phone numbers: ``+57 310 555 0100`` and ``573105550100``
#: are the same account.
PHONE_NUMBER_CHANNELS = frozenset({Channel.CHATTIGO, Channel.YCLOUD})

_KEY_PART = re.compile(r"^[A-Za-z0-9_=-]{1,200}$")


class ChannelRoute(BaseModel):
    """Where a channel account's webhooks go."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    channel: Channel
    account_id: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    tenant_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    #: WhatsApp: the number's Business Account (its template and limit webhooks).
    business_account_id: str | None = None
    #: Chattigo: SHA-256 (hex) of the token its webhook URL carries (never the token).
    url_token_sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = None

    @property
    def key(self) -> str:
        return route_key(self.channel, self.account_id)


def normalized_account_id(channel: Channel, account_id: str) -> str:
    """The account id as webhooks are matched: digits only for phone-number channels."""
    if channel in PHONE_NUMBER_CHANNELS:
        return "".join(ch for ch in account_id if ch.isdigit())
    return account_id


def route_key(channel: Channel, account_id: str) -> str:
    """The KV key of an account's route."""
    normalized = normalized_account_id(channel, account_id)
    if not _KEY_PART.match(normalized):
        raise ValueError(f"account id {account_id!r} cannot be a route key")
    return f"{channel.value}.{normalized}"
