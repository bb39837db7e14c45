"""Meta's status webhooks for messages the Graph fake accepted, posted to the gateway in
the background as Meta does: one task per message, tracked so shutdown can cancel them.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cauce_devstack.sandbox.gateway_client import GatewayClient
from cauce_devstack.sandbox.meta import webhooks as mw
from cauce_devstack.sandbox.meta.accounts import waba_of
from cauce_devstack.sandbox.meta.errors import RECIPIENT_REFUSALS
from cauce_devstack.sandbox.meta.gateway_webhooks import (
    ATTEMPTS,
    RETRIES,
    WEBHOOK_PATH,
    deliver,
)

if TYPE_CHECKING:
    from cauce_devstack.sandbox.settings import SandboxSettings

log = logging.getLogger(__name__)

__all__ = ["ATTEMPTS", "RETRIES", "WEBHOOK_PATH", "AcceptedMessage", "StatusCallbacks"]

CONVERSATION_S = 24 * 3600

FAILURE_TITLES: dict[int, str] = {
    131000: "Something went wrong",
    131026: "Message undeliverable",
    131047: "Re-engagement message",
    131049: "This message was not delivered to maintain healthy ecosystem engagement.",
    131050: "Unable to deliver the message. This recipient has chosen to stop receiving "
    "marketing messages on WhatsApp from your business.",
}


@dataclass(frozen=True)
class AcceptedMessage:
    """What the status webhooks need to know about one accepted send."""

    phone_number_id: str
    wamid: str
    recipient: str
    """The customer's wa_id (digits)."""
    category: str = "service"
    """Pricing category: service (free-form) or the template's category."""
    biz_opaque_callback_data: str | None = None
    billable: bool | None = None
    """``None``: billable unless free-form (``category`` service)."""
    pricing_type: str | None = None
    """``pricing.type`` (``regular``, ``free_customer_service``, ``free_entry_point``)."""
    failure_code: int | None = None
    """Meta fails it after accepting it with this code (131050: the customer stopped
    marketing messages)."""


class StatusCallbacks:
    """Schedules and posts the status webhooks of accepted messages."""

    def __init__(self, settings: SandboxSettings, gateway: GatewayClient | None = None) -> None:
        """``gateway``: the sandbox's shared client (its owner closes it); without one,
        these callbacks make and close their own."""
        self.settings = settings
        self._tasks: set[asyncio.Task[None]] = set()
        self._own_gateway = gateway is None
        self._gateway = gateway or GatewayClient(settings.gateway_timeout_s)
        self._conversations: dict[tuple[str, str, str], tuple[str, int]] = {}

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def schedule(self, message: AcceptedMessage) -> None:
        """Post this message's statuses in the background (no-op when disabled)."""
        if not self.settings.status_callbacks_enabled:
            return
        task = asyncio.create_task(self._run(message), name=f"status-{message.wamid[-8:]}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        """Cancel pending callbacks (and close the client if it is ours); safe to call
        twice."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._own_gateway:
            await self._gateway.aclose()

    def _conversation(self, message: AcceptedMessage) -> dict[str, object]:
        """One conversation per (number, customer, category) for 24 h, as Meta bills."""
        key = (message.phone_number_id, message.recipient, message.category)
        now = int(time.time())
        known = self._conversations.get(key)
        if known is None or known[1] <= now:
            known = (secrets.token_hex(16), now + CONVERSATION_S)
            self._conversations[key] = known
        return mw.conversation(message.category, conversation_id=known[0], expires_at=known[1])

    async def _run(self, message: AcceptedMessage) -> None:
        s = self.settings
        failure = message.failure_code or s.status_failing_recipients.get(message.recipient)
        if failure is not None:
            await asyncio.sleep(s.status_sent_delay_s)
            title = FAILURE_TITLES.get(failure, "Message failed to send")
            details = f"{title} (sandbox failing recipient)"
            if message.failure_code is not None:  # Meta's own failure, not a test's
                details = RECIPIENT_REFUSALS.get(failure, (title, title))[1]
            error = mw.status_error(failure, title, details)
            await self._post(message, "failed", errors=[error])
            return
        steps = [("sent", s.status_sent_delay_s), ("delivered", s.status_delivered_delay_s)]
        if s.status_read_enabled:
            steps.append(("read", s.status_read_delay_s))
        conversation = self._conversation(message)
        billable = message.billable
        if billable is None:
            billable = message.category != "service"
        pricing = mw.pricing(message.category, billable=billable, pricing_type=message.pricing_type)
        for status, delay in steps:
            await asyncio.sleep(delay)
            billed = status != "read"
            await self._post(
                message,
                status,
                conversation=conversation if billed else None,
                pricing=pricing if billed else None,
            )

    async def _post(
        self,
        message: AcceptedMessage,
        status: str,
        *,
        errors: list[dict[str, object]] | None = None,
        conversation: dict[str, object] | None = None,
        pricing: dict[str, object] | None = None,
    ) -> None:
        """Post one status, signed over the exact bytes; retried a few times, then dropped
        with a warning (Meta retries for days; the sandbox is not that patient)."""
        s = self.settings
        item = mw.status(
            message.wamid,
            status,
            message.recipient,
            errors=errors,
            conversation=conversation,
            pricing=pricing,
            biz_opaque_callback_data=message.biz_opaque_callback_data,
        )
        value = mw.statuses_value(message.phone_number_id, s.default_display_phone_number, [item])
        payload = mw.webhook([value], waba_of(s, message.phone_number_id))
        delivery = await deliver(self._gateway.http, s, payload)
        if not delivery.delivered:
            log.warning(
                "status webhook %s for %s not taken by the gateway after %d attempts: %s",
                status,
                message.wamid,
                ATTEMPTS,
                delivery.problem,
            )
