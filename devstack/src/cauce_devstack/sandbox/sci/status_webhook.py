"""The signed status webhook SCI posts to the gateway when a transaction is paid or
rejected. SCI publishes no such callback, so its shape and signature are cauce's own
(see the repository README); the fake posts exactly what the gateway verifies."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from cauce_devstack.sandbox.gateway_client import GatewayClient
from cauce_devstack.sandbox.sci.models import Transaction

if TYPE_CHECKING:
    from cauce_devstack.sandbox.settings import SandboxSettings

WEBHOOK_PATH = "/webhooks/sci"
SIGNATURE_HEADER = "X-SCI-Signature"


def sign_webhook(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The ``X-SCI-Signature`` header value for ``body``."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


async def notify(
    tx: Transaction, settings: SandboxSettings, gateway: GatewayClient
) -> dict[str, Any]:
    """Post ``tx``'s status to the gateway; what happened, for the payer's answer."""
    status_at = tx.status_at or datetime.now(UTC)
    body = json.dumps(
        {
            "transactionId": tx.transaction_id,
            "status": tx.status,
            "paymentReference": tx.payment_reference,
            "amount": tx.amount,
            "statusDate": status_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        separators=(",", ":"),
    ).encode()
    secret = settings.sci_webhook_secret.get_secret_value()
    url = f"{settings.gateway_url.rstrip('/')}{WEBHOOK_PATH}"
    outcome: dict[str, Any] = {"url": url, "accepted": False, "status_code": None}
    try:
        response = await gateway.http.post(
            url,
            content=body,
            headers={
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign_webhook(secret, body),
            },
        )
    except httpx.HTTPError as exc:
        outcome["error"] = f"{type(exc).__name__}: {exc}"
    else:
        outcome["status_code"] = response.status_code
        outcome["accepted"] = response.is_success
        if not response.is_success:
            outcome["error"] = response.text[:500]
    tx.webhooks.append({**outcome, "status": tx.status})
    return outcome
