"""Chattigo BSP client: login for a bearer token, then ``POST {base}/webhooks/inbound``.

Chattigo speaks its own outbound format (not Meta's) and carries only text and media.
Everything else is rendered as readable text (:mod:`.text_fallback`) and the result
says what was lost; templates cannot be rendered (we do not hold their text) and fail
permanently; media by uploaded id (a Meta media id) fails permanently too.

Tokens: one per account (keyed by account id and username), cached until
``renew_before`` ahead of its expiry (``token_ttl`` after the login, or the JWT's
``exp`` when readable and sooner). A 401 on a send re-logs in once and resends; a second
401 raises :class:`CredentialsRejected`. Concurrent sends for one account share one
login: logins run under a per-account lock, and a sender whose token was refused only
logs in again if nobody has replaced that token meanwhile.

Message ids: Chattigo answers 200 with an empty body, so the id we send is the
provider message id. It is derived from the request's ``event_id`` (the top 63 bits,
as decimal, like Chattigo's numeric example ids), so a resend of the same request
carries the same id. Mark-as-read has no Chattigo equivalent: no HTTP call, a
``noop`` result with provider message id ``chattigo:noop:<event_id>``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import mimetypes
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePosixPath
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from cauce_contracts.outbound import (
    MarkReadContent,
    MediaContent,
    OutboundMessageRequested,
    TemplateContent,
)
from cauce_notifier.accounts_model import ChannelAccount, ChattigoCredentials
from cauce_notifier.providers import SendResult
from cauce_notifier.providers.errors import (
    CredentialsRejected,
    PermanentProviderError,
    RetryableProviderError,
    from_chattigo_error,
    from_transport_error,
)
from cauce_notifier.providers.text_fallback import as_text
from cauce_runtime.calls import post_json

CHANNEL = "WHATSAPP"
#: Mime type when neither the filename nor the URL tells (WhatsApp's common formats).
DEFAULT_MIME_TYPES = {
    "image": "image/jpeg",
    "audio": "audio/ogg",
    "video": "video/mp4",
    "document": "application/pdf",
    "sticker": "image/webp",
}


def chattigo_message_id(event_id: uuid.UUID) -> str:
    """Stable numeric id for a request (fits a signed 64-bit integer)."""
    return str(event_id.int >> 65)


def noop_message_id(event_id: uuid.UUID) -> str:
    return f"chattigo:noop:{event_id}"


def _digits(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


def _media_attachment(content: MediaContent) -> dict[str, str]:
    if content.link is None:
        raise PermanentProviderError(
            "Chattigo needs media by URL",
            code="unsupported_content",
            detail=f"{content.media_type} given by uploaded media id; Chattigo takes only links",
        )
    url = str(content.link)
    path_name = PurePosixPath(urlsplit(url).path).name
    file_name = content.filename or path_name or None
    guessed = None
    for candidate in (content.filename, path_name):
        if candidate:
            guessed = mimetypes.guess_type(candidate)[0]
            if guessed:
                break
    attachment = {"mediaUrl": url, "mimeType": guessed or DEFAULT_MIME_TYPES[content.media_type]}
    if file_name:
        attachment["fileName"] = file_name
    return attachment


def wire_payload(
    message: OutboundMessageRequested, bot_name: str
) -> tuple[dict[str, Any], str | None]:
    """``(body, degradation)`` for a message in Chattigo's format (pure).

    Raises :class:`PermanentProviderError` for content Chattigo cannot carry at all
    (templates, media by id) and :class:`TypeError` for mark-as-read (not a message).
    """
    content = message.content
    if isinstance(content, MarkReadContent):
        raise TypeError("mark_read is not a Chattigo message")
    if isinstance(content, TemplateContent):
        raise PermanentProviderError(
            "Chattigo cannot send templates",
            code="unsupported_content",
            detail=f"template {content.name!r}: its text lives at Meta, not here",
        )
    body: dict[str, Any] = {
        "id": chattigo_message_id(message.event_id),
        "did": _digits(message.channel_account_id),
        "msisdn": _digits(message.recipient),
    }
    degradations: list[str] = []
    if isinstance(content, MediaContent):
        body |= {
            "type": "media",
            "channel": CHANNEL,
            "content": content.caption or "",
            "name": bot_name,
            "isAttachment": True,
            "attachment": _media_attachment(content),
        }
    else:
        text, lost = as_text(content)
        if lost is not None:
            degradations.append(lost)
        body |= {
            "type": "text",
            "channel": CHANNEL,
            "content": text,
            "name": bot_name,
            "isAttachment": False,
        }
    if message.reply_to_message_id is not None:
        degradations.append("reply context dropped (Chattigo cannot quote a message)")
    return body, "; ".join(degradations) or None


def _jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT, unverified (only to schedule renewal)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except ValueError:
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


@dataclass(frozen=True)
class _Token:
    value: str
    renew_at: float


class ChattigoClient:
    """Sends through Chattigo with a cached, auto-renewed login per account."""

    #: Chattigo has no field a status would echo: a send whose answer was lost is sent
    #: again.
    echoes_request_id: ClassVar[bool] = False

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        *,
        token_ttl: timedelta = timedelta(hours=8),
        renew_before: timedelta = timedelta(minutes=5),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._token_ttl = token_ttl.total_seconds()
        self._renew_before = renew_before.total_seconds()
        self._clock = clock
        self._tokens: dict[tuple[uuid.UUID, str], _Token] = {}
        self._locks: dict[tuple[uuid.UUID, str], asyncio.Lock] = {}
        #: Logins performed (all accounts): for metrics and tests.
        self.logins = 0

    @staticmethod
    def _credentials(account: ChannelAccount) -> ChattigoCredentials:
        if not isinstance(account.credentials, ChattigoCredentials):
            raise PermanentProviderError(
                "account has no Chattigo credentials", code="misconfigured_account"
            )
        return account.credentials

    async def send(self, account: ChannelAccount, message: OutboundMessageRequested) -> SendResult:
        credentials = self._credentials(account)
        if isinstance(message.content, MarkReadContent):
            return SendResult(
                provider_message_id=noop_message_id(message.event_id),
                wire_payload={},
                degradation="mark_read has no Chattigo equivalent; nothing was sent",
                delivery="noop",
            )
        payload, degradation = wire_payload(message, credentials.bot_name)
        token = await self._token(account, credentials)
        response = await self._post_message(payload, token)
        if response.status_code == 401:
            token = await self._token(account, credentials, refused=token)
            response = await self._post_message(payload, token)
            if response.status_code == 401:
                self.forget(account)
                raise CredentialsRejected(
                    "Chattigo refused a fresh token",
                    code="http_401",
                    http_status=401,
                )
        if response.status_code >= 300:
            raise from_chattigo_error(response.status_code, response.content, response.headers)
        return SendResult(
            provider_message_id=payload["id"], wire_payload=payload, degradation=degradation
        )

    async def verify_credentials(self, account: ChannelAccount) -> None:
        """Log in now (admin "test credentials"); raises like a send would."""
        credentials = self._credentials(account)
        self.forget(account)
        await self._token(account, credentials)

    def forget(self, account: ChannelAccount) -> None:
        """Drop the cached token (credentials rotated or refused)."""
        if isinstance(account.credentials, ChattigoCredentials):
            self._tokens.pop((account.id, account.credentials.username), None)

    async def _post_message(self, payload: dict[str, Any], token: str) -> httpx.Response:
        try:
            return await post_json(
                self._http,
                f"{self._base_url}/webhooks/inbound",
                payload,
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.TransportError as error:
            raise from_transport_error(error) from None

    async def _token(
        self,
        account: ChannelAccount,
        credentials: ChattigoCredentials,
        *,
        refused: str | None = None,
    ) -> str:
        """A usable token; ``refused`` is one the provider just rejected."""
        key = (account.id, credentials.username)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(key)
            if (
                cached is not None
                and cached.value != refused
                and (refused is not None or self._clock() < cached.renew_at)
            ):
                return cached.value
            token = await self._login(credentials)
            self._tokens[key] = token
            return token.value

    async def _login(self, credentials: ChattigoCredentials) -> _Token:
        self.logins += 1
        logged_in_at = self._clock()
        try:
            response = await self._http.post(
                f"{self._base_url}/login",
                json={
                    "username": credentials.username,
                    "password": credentials.password.get_secret_value(),
                },
            )
        except httpx.TransportError as error:
            raise from_transport_error(error) from None
        if response.status_code in (401, 403):
            raise CredentialsRejected(
                "Chattigo login refused",
                code=f"http_{response.status_code}",
                http_status=response.status_code,
            )
        if response.status_code >= 300:
            raise from_chattigo_error(response.status_code, response.content, response.headers)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        value = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(value, str) or not value:
            raise RetryableProviderError(
                "Chattigo login answered without a token",
                code="bad_response",
                http_status=response.status_code,
            )
        expires_at = logged_in_at + self._token_ttl
        claimed = _jwt_expiry(value)
        if claimed is not None:
            expires_at = min(expires_at, claimed)
        return _Token(value=value, renew_at=expires_at - self._renew_before)


__all__ = [
    "ChattigoClient",
    "chattigo_message_id",
    "noop_message_id",
    "wire_payload",
]
