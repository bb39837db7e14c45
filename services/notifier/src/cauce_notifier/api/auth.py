"""Bearer admin token for the notifier's operator APIs (/admin/channels, /messages).

The guard itself is the runtime's shared :func:`cauce_runtime.bearer_guard`;
this only names the notifier's realm and message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from pydantic import SecretStr

from cauce_runtime import bearer_guard as _shared_bearer_guard


def bearer_guard(admin_token: SecretStr) -> Callable[[Request], Awaitable[None]]:
    """A FastAPI dependency: 401 unless ``Authorization: Bearer <admin token>``."""
    return _shared_bearer_guard(
        admin_token, realm="cauce-notifier", detail="a valid admin bearer token is required"
    )
