"""Posting Meta's webhooks to the gateway as Meta does: compact JSON signed with
``X-Hub-Signature-256`` over the exact bytes, from Meta's user agent, through the
sandbox's one gateway client. Status callbacks, the customer simulator and the account
webhooks (templates, messaging limits, preferences) all post through here."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import BaseModel

from cauce_devstack.sandbox.meta import webhooks as mw
from cauce_runtime import Backoff

if TYPE_CHECKING:
    from cauce_devstack.sandbox.settings import SandboxSettings

WEBHOOK_PATH = "/webhooks/whatsapp"
ATTEMPTS = 3
#: Between attempts to post one webhook (Meta retries for days; a fake, seconds).
RETRIES = Backoff.of(0.5, 1.0)


def webhook_url(settings: SandboxSettings) -> str:
    return settings.gateway_url.rstrip("/") + WEBHOOK_PATH


def signed(payload: Mapping[str, Any], settings: SandboxSettings) -> tuple[bytes, dict[str, str]]:
    """The exact bytes to post and their headers, signed with the app secret."""
    body = mw.encode(payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "facebookexternalua",
        mw.SIGNATURE_HEADER: mw.sign(body, settings.app_secret.get_secret_value()),
    }
    return body, headers


async def post_once(
    http: httpx.AsyncClient, settings: SandboxSettings, payload: Mapping[str, Any]
) -> httpx.Response:
    """One signed post; raises ``httpx.HTTPError`` when the gateway does not answer."""
    body, headers = signed(payload, settings)
    return await http.post(webhook_url(settings), content=body, headers=headers)


@dataclass(frozen=True)
class Delivery:
    """How posting one webhook ended."""

    gateway_status: int | None
    """The gateway's last HTTP status; ``None`` when it never answered."""
    problem: str | None = None
    """Why it was not taken (``HTTP 503``, ``ConnectError``), after every attempt."""

    @property
    def delivered(self) -> bool:
        return self.problem is None


async def deliver(
    http: httpx.AsyncClient,
    settings: SandboxSettings,
    payload: Mapping[str, Any],
    attempts: int = ATTEMPTS,
) -> Delivery:
    """Post until the gateway takes it (2xx), ``attempts`` times at most, spaced by
    :data:`RETRIES`; never raises for the gateway's trouble."""
    status: int | None = None
    problem = "not attempted"
    for attempt in range(1, attempts + 1):
        try:
            answer = await post_once(http, settings, payload)
            status = answer.status_code
            if answer.is_success:
                return Delivery(status)
            problem = f"HTTP {status}"
        except httpx.HTTPError as error:
            problem = type(error).__name__
        if attempt < attempts:
            await asyncio.sleep(RETRIES.delay(attempt))
    return Delivery(status, problem)


class PostedWebhook(BaseModel):
    """One webhook a sandbox control posted (or, with ``notify: false``, only built)."""

    field: str
    """The change's ``field`` (``message_template_status_update``...)."""
    payload: dict[str, Any]
    posted: bool
    delivered: bool = False
    gateway_status: int | None = None
    problem: str | None = None


async def post_account_webhook(
    http: httpx.AsyncClient,
    settings: SandboxSettings,
    field: str,
    payload: dict[str, Any],
    *,
    notify: bool = True,
) -> PostedWebhook:
    """Deliver one account-level webhook (when ``notify``) and report how it went."""
    if not notify:
        return PostedWebhook(field=field, payload=payload, posted=False)
    delivery = await deliver(http, settings, payload)
    return PostedWebhook(
        field=field,
        payload=payload,
        posted=True,
        delivered=delivery.delivered,
        gateway_status=delivery.gateway_status,
        problem=delivery.problem,
    )
