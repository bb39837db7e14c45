"""Calls to the services on behalf of the signed-in user: their access token on every
request, refreshed at the identity service shortly before it expires (or once after a
401), so a page never needs its own credentials. A refresh that fails signs the user
out; a service that does not answer is a :class:`ServiceDown`, shown as such."""

from __future__ import annotations

import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import httpx
from fastapi import Response

from cauce_console.sessions import Session, SessionCookie, renewed

T = TypeVar("T")

Service = Literal["identity", "conversation", "notifier", "crm-sync"]
#: Refresh this long before the access token expires.
REFRESH_MARGIN_S = 30.0


class SignedOut(Exception):
    """No session, or one the identity service no longer honours."""


class Refused(LookupError):
    """A service answered 4xx to a read: not there, or not for this user's role."""

    def __init__(self, service: str, status: int) -> None:
        super().__init__(f"{service} answered {status}")
        self.status = status


class ServiceDown(Exception):
    """A service did not answer (or answered 503): the page says so, nothing is lost."""

    def __init__(self, service: str) -> None:
        super().__init__(f"{service} is unavailable")
        self.service = service


@dataclass(frozen=True)
class Backends:
    http: httpx.AsyncClient
    urls: dict[str, str]

    def url(self, service: Service, path: str) -> str:
        return self.urls[service].rstrip("/") + path


class Visit:
    """One request of a signed-in user: their session and their calls."""

    def __init__(self, backends: Backends, cookie: SessionCookie, session: Session) -> None:
        self.backends = backends
        self.cookie = cookie
        self.session = session
        self._changed = False

    async def call(self, service: Service, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if self.session.expires_at - time.time() < REFRESH_MARGIN_S:
            await self._refresh()
        answer = await self._send(service, method, path, **kwargs)
        if answer.status_code == 401:
            await self._refresh()
            answer = await self._send(service, method, path, **kwargs)
            if answer.status_code == 401:
                raise SignedOut
        if answer.status_code == 503:
            raise ServiceDown(service)
        return answer

    async def json(self, service: Service, path: str, **params: Any) -> Any:
        answer = await self.call(service, "GET", path, params=params)
        if answer.status_code >= 400:
            if answer.status_code >= 500:
                raise ServiceDown(service)
            raise Refused(service, answer.status_code)
        return answer.json()

    def authorization(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.session.access_token}"}

    async def _send(
        self, service: Service, method: str, path: str, **kwargs: Any
    ) -> httpx.Response:
        headers = {**kwargs.pop("headers", {}), **self.authorization()}
        try:
            return await self.backends.http.request(
                method, self.backends.url(service, path), headers=headers, **kwargs
            )
        except httpx.TransportError as exc:
            raise ServiceDown(service) from exc

    async def _refresh(self) -> None:
        try:
            answer = await self.backends.http.post(
                self.backends.url("identity", "/api/auth/refresh"),
                json={"refresh_token": self.session.refresh_token},
            )
        except httpx.TransportError as exc:
            raise ServiceDown("identity") from exc
        if answer.status_code != 200:
            raise SignedOut
        tokens = answer.json()
        self.session = renewed(
            self.session,
            tokens["access_token"],
            tokens["refresh_token"],
            time.time() + float(tokens["expires_in"]),
        )
        self._changed = True

    def commit(self, response: Response) -> Response:
        """Keep the renewed tokens (the refresh token was spent)."""
        if self._changed:
            self.cookie.write(response, self.session)
        return response


async def unless_refused(read: Awaitable[T]) -> T | None:
    """What a service answered, or None when the user's role may not see it (a page
    showing several parts says so for that part and shows the rest)."""
    try:
        return await read
    except Refused:
        return None


def refusal(answer: httpx.Response) -> str | None:
    """Why a service refused a write (its problem+json ``detail``), None when it did not."""
    if answer.status_code < 400:
        return None
    body = answer.json() if answer.content else {}
    detail = body.get("detail") if isinstance(body, dict) else None
    return detail if isinstance(detail, str) else f"HTTP {answer.status_code}"
