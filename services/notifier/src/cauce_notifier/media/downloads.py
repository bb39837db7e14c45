"""Downloading a customer's file from the provider that received it, within limits.

- WhatsApp Cloud API: the media id is a Graph node; ``GET /{media_id}`` with the
  number's token answers a short-lived ``url``, which gives the bytes to the same token.
- YCloud and Chattigo put a URL in the webhook: fetched as is (YCloud's API key goes
  only to YCloud's own host; nobody else's URL gets a credential).

Every URL that comes from a provider's answer is checked before it is fetched: http(s)
only, and a host that resolves to public addresses (no loopback, private, link-local or
reserved ones: a forged or compromised payload cannot point the notifier at the
cluster's insides), unless ``CAUCE_MEDIA_ALLOW_PRIVATE_HOSTS`` (dev and tests, where the
sandbox is on 127.0.0.1). The file is streamed and cut off at ``CAUCE_MEDIA_MAX_BYTES``;
its type must be one of ``CAUCE_MEDIA_CONTENT_TYPES``.

A file that will never come (too large, a refused type, gone at the provider) raises
:class:`MediaRefused`; trouble that may pass (5xx, timeouts, 429) raises the
provider's retryable errors, and the consumer retries with backoff.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from cauce_contracts.inbound import MediaRef
from cauce_contracts.media import MediaRefusal
from cauce_notifier.accounts_model import ChannelAccount, WhatsAppCredentials, YCloudCredentials
from cauce_notifier.providers.errors import (
    PermanentProviderError,
    RetryableProviderError,
    from_meta_error,
    from_transport_error,
)


class MediaRefused(Exception):
    """The file will not be kept: ``reason`` (a :data:`MediaRefusal`) and a detail."""

    def __init__(self, reason: MediaRefusal, detail: str) -> None:
        super().__init__(detail)
        self.reason: MediaRefusal = reason
        self.detail = detail


@dataclass(frozen=True)
class MediaLimits:
    max_bytes: int
    content_types: frozenset[str]
    allow_private_hosts: bool = False


@dataclass(frozen=True)
class Downloaded:
    data: bytes
    content_type: str


def base_type(content_type: str | None) -> str:
    """``audio/ogg; codecs=opus`` -> ``audio/ogg``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


class MediaDownloader:
    def __init__(
        self,
        http: httpx.AsyncClient,
        limits: MediaLimits,
        *,
        graph_base_url: str,
        graph_api_version: str,
        ycloud_base_url: str,
    ) -> None:
        self.http = http
        self.limits = limits
        self._graph = f"{graph_base_url.rstrip('/')}/{graph_api_version.strip('/')}"
        self._ycloud_host = urlsplit(ycloud_base_url).hostname

    async def download(self, account: ChannelAccount, media: MediaRef) -> Downloaded:
        credentials = account.credentials
        if media.id is not None and isinstance(credentials, WhatsAppCredentials):
            token = credentials.access_token.get_secret_value()
            url, declared = await self._graph_node(media.id, token)
            headers = {"Authorization": f"Bearer {token}"}
        elif media.url is not None:
            url, declared = media.url, media.mime_type
            headers = {}
            if isinstance(credentials, YCloudCredentials) and self._is_ycloud(url):
                headers = {"X-API-Key": credentials.api_key.get_secret_value()}
        else:
            raise MediaRefused("unavailable", f"no way to download media on {account.channel}")
        return await self._fetch(url, headers, declared)

    def _is_ycloud(self, url: str) -> bool:
        return self._ycloud_host is not None and urlsplit(url).hostname == self._ycloud_host

    async def _graph_node(self, media_id: str, token: str) -> tuple[str, str | None]:
        """Meta's ``GET /{media_id}``: the download URL and the declared type."""
        try:
            answer = await self.http.get(
                f"{self._graph}/{media_id}", headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.TransportError as error:
            raise from_transport_error(error) from None
        if answer.status_code >= 300:
            refusal = from_meta_error(answer.status_code, answer.content, answer.headers)
            if isinstance(refusal, PermanentProviderError):
                raise MediaRefused("unavailable", f"Graph refused the media id: {refusal}")
            raise refusal
        node: Any = answer.json()
        url = node.get("url") if isinstance(node, dict) else None
        if not isinstance(url, str):
            raise MediaRefused("unavailable", "Graph answered no download url")
        size = node.get("file_size")
        if str(size).isdigit() and int(size) > self.limits.max_bytes:
            raise MediaRefused("too_large", self._too_large(int(size)))
        declared = node.get("mime_type")
        return url, declared if isinstance(declared, str) else None

    async def _fetch(self, url: str, headers: dict[str, str], declared: str | None) -> Downloaded:
        await self._check_host(url)
        try:
            async with self.http.stream("GET", url, headers=headers) as answer:
                if answer.status_code in (408, 429) or answer.status_code >= 500:
                    raise RetryableProviderError(
                        f"media download answered {answer.status_code}",
                        code=f"http_{answer.status_code}",
                        http_status=answer.status_code,
                    )
                if answer.status_code >= 300:
                    raise MediaRefused("unavailable", f"the provider answered {answer.status_code}")
                content_type = base_type(answer.headers.get("content-type")) or base_type(declared)
                if content_type not in self.limits.content_types:
                    raise MediaRefused(
                        "type_not_allowed", f"{content_type or 'no type'} is not kept"
                    )
                data = await self._read_capped(answer)
        except httpx.TransportError as error:
            raise from_transport_error(error) from None
        return Downloaded(data, content_type)

    async def _read_capped(self, answer: httpx.Response) -> bytes:
        declared = answer.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limits.max_bytes:
            raise MediaRefused("too_large", self._too_large(int(declared)))
        chunks, size = [], 0
        async for chunk in answer.aiter_bytes():
            size += len(chunk)
            if size > self.limits.max_bytes:
                raise MediaRefused("too_large", self._too_large(size, at_least=True))
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, size: int, *, at_least: bool = False) -> str:
        more = "over " if at_least else ""
        return f"the file is {more}{size} bytes; the limit is {self.limits.max_bytes}"

    async def _check_host(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise MediaRefused("unavailable", "the media url is not http(s)")
        if self.limits.allow_private_hosts:
            return
        try:
            found = await asyncio.get_running_loop().getaddrinfo(
                parts.hostname, parts.port or 443, type=socket.SOCK_STREAM
            )
        except OSError as error:
            raise RetryableProviderError(
                f"media host did not resolve: {error}", code="connection"
            ) from None
        for *_, sockaddr in found:
            address = ipaddress.ip_address(sockaddr[0])
            if not address.is_global:
                raise MediaRefused("unavailable", "the media url points at a private address")
