"""Which bearer token may act for which business number: the Graph API refuses a token
for a number it was not issued for, so a client mixing up accounts fails here too."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from fastapi import Request

from cauce_devstack.sandbox.meta.errors import invalid_token, missing_token, unknown_object

if TYPE_CHECKING:
    from cauce_devstack.sandbox.settings import SandboxSettings


def bearer(request: Request) -> str | None:
    return bearer_of(request.headers.get("authorization"))


def bearer_of(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header, or None."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authorise(settings: SandboxSettings, token: str | None, phone_number_id: str) -> None:
    if token is None:
        raise missing_token()
    known = {pid: secret.get_secret_value() for pid, secret in settings.graph_tokens.items()}
    if not any(hmac.compare_digest(token, value) for value in known.values()):
        raise invalid_token()
    expected = known.get(phone_number_id)
    if expected is None or not hmac.compare_digest(token, expected):
        raise unknown_object(phone_number_id)
