"""Bearer admin token for the notifier's operator APIs (/admin/channels, /messages).

The comparison is the runtime's shared :func:`cauce_runtime.require_bearer`; this
names the notifier's realm and message and reads the token from its settings.
"""

from __future__ import annotations

from fastapi import Request

from cauce_notifier.bootstrap import NotifierDep
from cauce_runtime import require_bearer


async def require_admin_token(request: Request, notifier: NotifierDep) -> None:
    """A FastAPI dependency: 401 unless ``Authorization: Bearer <CAUCE_ADMIN_TOKEN>``."""
    require_bearer(
        request,
        notifier.settings.admin_token,
        realm="cauce-notifier",
        detail="a valid admin bearer token is required",
    )
