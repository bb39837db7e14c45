"""WhatsApp Cloud API client: ``POST {base}/{version}/{phone_number_id}/messages``, and a
WhatsApp Business Account's templates (``GET {base}/{version}/{waba_id}/message_templates``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar

import httpx

from cauce_contracts.outbound import MarkReadContent, OutboundMessageRequested
from cauce_notifier.accounts_model import ChannelAccount, WhatsAppCredentials
from cauce_notifier.providers import SendResult
from cauce_notifier.providers.errors import (
    PermanentProviderError,
    from_meta_error,
    from_transport_error,
)
from cauce_notifier.providers.meta_format import message_object, read_receipt
from cauce_runtime.calls import post_json


def wire_payload(message: OutboundMessageRequested) -> dict[str, Any]:
    """The exact JSON body Meta documents for this request (pure).

    The recipient goes as given (``+57300...`` or ``57300...``: Meta takes both);
    ``reply_to_message_id`` becomes ``context.message_id`` (WhatsApp quotes it); the
    request's event id goes as ``biz_opaque_callback_data``, which Meta echoes on the
    message's status webhooks (how a send whose answer was lost is recognised).
    """
    content = message.content
    if isinstance(content, MarkReadContent):
        return read_receipt(content)
    kind, obj = message_object(content)
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": message.recipient,
    }
    if message.reply_to_message_id is not None:
        body["context"] = {"message_id": message.reply_to_message_id}
    body["type"] = kind
    body[kind] = obj
    body["biz_opaque_callback_data"] = str(message.event_id)
    return body


class WhatsAppCloudClient:
    """Sends through Meta's Graph API with the account's bearer token."""

    #: The request's event id goes as ``biz_opaque_callback_data``: every status echoes it.
    echoes_request_id: ClassVar[bool] = True

    def __init__(self, http: httpx.AsyncClient, base_url: str, api_version: str) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._api_version = api_version.strip("/")

    wire_payload = staticmethod(wire_payload)

    def messages_url(self, phone_number_id: str) -> str:
        return f"{self._base_url}/{self._api_version}/{phone_number_id}/messages"

    async def verify_credentials(self, account: ChannelAccount) -> None:
        """Read the phone number's node with the account's token (admin "test
        credentials"); raises like a send would (190 -> CredentialsRejected)."""
        credentials = account.credentials
        if not isinstance(credentials, WhatsAppCredentials):
            raise PermanentProviderError(
                "account has no WhatsApp credentials", code="misconfigured_account"
            )
        try:
            response = await self._http.get(
                f"{self._base_url}/{self._api_version}/{account.account_id}",
                headers={"Authorization": f"Bearer {credentials.access_token.get_secret_value()}"},
            )
        except httpx.TransportError as error:
            raise from_transport_error(error) from None
        if response.status_code >= 300:
            raise from_meta_error(response.status_code, response.content, response.headers)

    async def message_templates(
        self, account: ChannelAccount, business_account_id: str, *, page_size: int = 100
    ) -> AsyncIterator[dict[str, Any]]:
        """Every template of the WABA, page by page (Meta's ``after`` cursors), with the
        fields a campaign needs; raises like a send would."""
        credentials = _credentials(account)
        url = f"{self._base_url}/{self._api_version}/{business_account_id}/message_templates"
        params: dict[str, str | int] = {"limit": page_size, "fields": TEMPLATE_FIELDS}
        while True:
            try:
                response = await self._http.get(
                    url,
                    params=params,
                    headers={
                        "Authorization": f"Bearer {credentials.access_token.get_secret_value()}"
                    },
                )
            except httpx.TransportError as error:
                raise from_transport_error(error) from None
            if response.status_code >= 300:
                raise from_meta_error(response.status_code, response.content, response.headers)
            page = _json_object(response)
            for template in page.get("data") or ():
                if isinstance(template, dict):
                    yield template
            paging = page.get("paging")
            paging = paging if isinstance(paging, dict) else {}
            cursors = paging.get("cursors")
            after = cursors.get("after") if isinstance(cursors, dict) else None
            if not paging.get("next") or not isinstance(after, str) or not after:
                return
            params = {**params, "after": after}

    async def send(self, account: ChannelAccount, message: OutboundMessageRequested) -> SendResult:
        credentials = account.credentials
        if not isinstance(credentials, WhatsAppCredentials):
            raise PermanentProviderError(
                "account has no WhatsApp credentials", code="misconfigured_account"
            )
        payload = wire_payload(message)
        try:
            response = await post_json(
                self._http,
                self.messages_url(account.account_id),
                payload,
                headers={"Authorization": f"Bearer {credentials.access_token.get_secret_value()}"},
            )
        except httpx.TransportError as error:
            raise from_transport_error(error) from None
        if response.status_code >= 300:
            raise from_meta_error(response.status_code, response.content, response.headers)
        return _result(message, payload, response)


#: What :meth:`WhatsAppCloudClient.message_templates` asks Meta for.
TEMPLATE_FIELDS = (
    "id,name,language,status,category,quality_score,components,parameter_format,rejected_reason"
)


def _credentials(account: ChannelAccount) -> WhatsAppCredentials:
    credentials = account.credentials
    if not isinstance(credentials, WhatsAppCredentials):
        raise PermanentProviderError(
            "account has no WhatsApp credentials", code="misconfigured_account"
        )
    return credentials


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise PermanentProviderError(
            "unreadable answer", code="bad_response", http_status=response.status_code
        )
    return answer


def _result(
    message: OutboundMessageRequested, payload: dict[str, Any], response: httpx.Response
) -> SendResult:
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if isinstance(message.content, MarkReadContent):
        if isinstance(answer, dict) and answer.get("success") is True:
            return SendResult(
                provider_message_id=message.content.message_id,
                wire_payload=payload,
                delivery="read_receipt",
            )
    elif isinstance(answer, dict):
        messages = answer.get("messages")
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            wamid = messages[0].get("id")
            if isinstance(wamid, str) and wamid:
                return SendResult(provider_message_id=wamid, wire_payload=payload)
    # A 2xx we cannot read: the message has most likely gone. Retrying could send it
    # twice, so this fails for good and says why.
    raise PermanentProviderError(
        "unreadable success answer", code="bad_response", http_status=response.status_code
    )


__all__ = ["WhatsAppCloudClient", "wire_payload"]
