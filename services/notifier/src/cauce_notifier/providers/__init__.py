"""Provider clients: one per channel, each turning an outbound request into one HTTP call.

Every client exposes the same coroutine, :meth:`ProviderClient.send`, and answers with a
:class:`SendResult` or raises a :class:`~cauce_notifier.providers.errors.ProviderError`
(whose ``retryable`` says whether delivery should try again). Clients never retry on
their own (except Chattigo's single re-login on a 401): retry policy belongs to delivery.

The client modules (``whatsapp_cloud``, ``chattigo``, ``ycloud``) import this package,
so it re-exports nothing from them; import the client classes from their modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

from cauce_contracts.outbound import OutboundMessageRequested
from cauce_notifier.accounts_model import ChannelAccount

#: What a successful call did:
#: ``message``       a message the provider accepted; status webhooks will follow for
#:                   ``provider_message_id``.
#: ``read_receipt``  a mark-as-read the provider accepted; no status webhooks follow,
#:                   ``provider_message_id`` is the inbound message that was marked.
#: ``noop``          nothing was sent because the provider has no equivalent
#:                   (mark-as-read on Chattigo); ``provider_message_id`` is synthetic.
Delivery = Literal["message", "read_receipt", "noop"]


@dataclass(frozen=True)
class SendResult:
    """The provider accepted the request (or it was a documented no-op)."""

    provider_message_id: str
    #: The JSON body sent to the provider (``{}`` for a no-op). Contains the recipient's
    #: number and the message: personal data, store it but never log it.
    wire_payload: dict[str, Any] = field(repr=False)
    #: What was lost converting the content for this provider, e.g. ``"reply_buttons
    #: rendered as numbered text options"``; ``None`` when sent as requested.
    degradation: str | None = None
    delivery: Delivery = "message"


class ProviderClient(Protocol):
    """What delivery needs from a provider client."""

    #: Whether the provider's status webhooks name the request a message was sent for
    #: (its event id, sent along): delivery then waits for them when a send's answer
    #: is lost, instead of sending again.
    echoes_request_id: ClassVar[bool]

    async def send(
        self, account: ChannelAccount, message: OutboundMessageRequested
    ) -> SendResult: ...


__all__ = ["Delivery", "ProviderClient", "SendResult"]
