"""YCloud client: ``POST {base}/v2/whatsapp/messages`` with ``X-API-Key``.

YCloud mirrors Meta's content objects, so the body is Meta's message minus
``messaging_product``/``recipient_type``, plus ``from`` (our business number) and
``externalId`` (the request's ``event_id``, echoed on YCloud's status webhooks).
Numbers go in E.164 with the ``+``, as YCloud documents.

Mark-as-read uses YCloud's own endpoints: ``POST
/v2/whatsapp/inboundMessages/{id}/markAsRead`` or, with a typing indicator,
``.../typing`` (which also marks it read); both answer 200 with no body.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from cauce_contracts.outbound import MarkReadContent, OutboundMessageRequested
from cauce_notifier.accounts_model import ChannelAccount, YCloudCredentials
from cauce_notifier.providers import SendResult
from cauce_notifier.providers.errors import (
    PermanentProviderError,
    from_transport_error,
    from_ycloud_error,
)
from cauce_notifier.providers.meta_format import message_object
from cauce_runtime.calls import post_json


def e164(number: str) -> str:
    return "+" + "".join(c for c in number if c.isdigit())


def wire_payload(message: OutboundMessageRequested) -> dict[str, Any]:
    """The JSON body YCloud documents for this message (pure; not for mark-as-read)."""
    content = message.content
    if isinstance(content, MarkReadContent):
        raise TypeError("mark_read is not a YCloud message")
    kind, obj = message_object(content)
    body: dict[str, Any] = {
        "from": e164(message.channel_account_id),
        "to": e164(message.recipient),
        "type": kind,
        kind: obj,
    }
    if message.reply_to_message_id is not None:
        body["context"] = {"message_id": message.reply_to_message_id}
    body["externalId"] = str(message.event_id)
    return body


def read_path(content: MarkReadContent) -> str:
    action = "typing" if content.typing_indicator else "markAsRead"
    return f"/v2/whatsapp/inboundMessages/{quote(content.message_id, safe='')}/{action}"


class YCloudClient:
    """Sends through YCloud with the account's API key."""

    #: The request's event id goes as ``externalId``: every status echoes it.
    echoes_request_id: ClassVar[bool] = True

    def __init__(self, http: httpx.AsyncClient, base_url: str) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")

    wire_payload = staticmethod(wire_payload)

    async def send(self, account: ChannelAccount, message: OutboundMessageRequested) -> SendResult:
        credentials = account.credentials
        if not isinstance(credentials, YCloudCredentials):
            raise PermanentProviderError(
                "account has no YCloud credentials", code="misconfigured_account"
            )
        headers = {"X-API-Key": credentials.api_key.get_secret_value()}
        content = message.content
        if isinstance(content, MarkReadContent):
            await self._post(read_path(content), None, headers)
            return SendResult(
                provider_message_id=content.message_id, wire_payload={}, delivery="read_receipt"
            )
        payload = wire_payload(message)
        response = await self._post("/v2/whatsapp/messages", payload, headers)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if isinstance(answer, dict):
            for key in ("wamid", "id"):
                value = answer.get(key)
                if isinstance(value, str) and value:
                    return SendResult(provider_message_id=value, wire_payload=payload)
        # Accepted but unreadable: most likely sent, so never retried (no duplicates).
        raise PermanentProviderError(
            "unreadable success answer", code="bad_response", http_status=response.status_code
        )

    async def _post(
        self, path: str, payload: dict[str, Any] | None, headers: dict[str, str]
    ) -> httpx.Response:
        try:
            response = await post_json(
                self._http, f"{self._base_url}{path}", payload, headers=headers
            )
        except httpx.TransportError as error:
            raise from_transport_error(error) from None
        if response.status_code >= 300:
            raise from_ycloud_error(response.status_code, response.content, response.headers)
        return response


__all__ = ["YCloudClient", "e164", "read_path", "wire_payload"]
