"""Every route of every service either asks who is calling (an access token, through
``cauce_runtime.identity``, or a service-to-service secret) or is public on purpose:
the list below is the whole of what anyone may call without credentials. A route added
without a guard fails here, before it can leak a company's data."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cauce_identity.app import create_app as identity_app
from cauce_identity.settings import IdentitySettings
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from cauce_conversation.app import create_app as conversation_app
from cauce_conversation.settings import ConversationSettings
from cauce_crm_sync.app import create_app as crm_sync_app
from cauce_crm_sync.settings import CrmSyncSettings
from cauce_gateway.app import create_app as gateway_app
from cauce_gateway.settings import GatewaySettings
from cauce_notifier.app import create_app as notifier_app
from cauce_notifier.settings import NotifierSettings
from cauce_payments.app import create_app as payments_app
from cauce_payments.settings import PaymentsSettings
from cauce_runtime.identity import authenticated_caller

#: Routes anyone may call, by service: probes and docs everywhere, and each one's
#: reason to be public (webhooks check the provider's signature or token themselves).
OPS = r"^/(healthz|readyz|metrics|docs|docs/oauth2-redirect|redoc|openapi\.json)$"
PUBLIC: dict[str, str] = {
    # the webhooks, at cauce's paths and the seed systems' (webhooks/seed_paths.py)
    "gateway": r"^/webhooks/|^/api/(webhookMeta/webhookMessage|v1/webhooks/whatsapp|v1/webhook"
    r"|webhooks/ycloud|v1/manychat/webhook/(contact|campaign-assignment))$",
    "notifier": r"^/l/",  # short links customers open
    # files by signed, expiring link (the HMAC is the permission: media_files.py)
    "conversation": r"^/api/media/\{company_id\}/\{sha256\}$",
    "identity": r"^/(api/auth/(login|refresh|token)|\.well-known/jwks\.json)$",
}

APPS: dict[str, Callable[[Path], FastAPI]] = {
    "gateway": lambda tmp: gateway_app(GatewaySettings(environment="test", _env_file=None)),
    "conversation": lambda tmp: conversation_app(
        ConversationSettings(environment="test", _env_file=None)
    ),
    "payments": lambda tmp: payments_app(PaymentsSettings(environment="test", _env_file=None)),
    "crm-sync": lambda tmp: crm_sync_app(CrmSyncSettings(environment="test", _env_file=None)),
    "notifier": lambda tmp: notifier_app(NotifierSettings(environment="test", _env_file=None)),
    "identity": lambda tmp: identity_app(IdentitySettings(environment="test", _env_file=None)),
}


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every API route, through included routers (FastAPI includes them lazily; our
    routers carry their prefix themselves)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from _api_routes(route.original_router.routes)


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def _guarded(route: APIRoute) -> bool:
    """True when a dependency of the route checks credentials: the verified caller, or
    a ``require_*`` guard comparing a shared secret."""
    return any(
        call is authenticated_caller or getattr(call, "__name__", "").startswith("require_")
        for call in _calls(route.dependant)
    )


@pytest.mark.parametrize("service", sorted(APPS))
async def test_every_route_is_guarded_or_public_on_purpose(service: str, tmp_path: Path) -> None:
    """Apps are built inside a running loop, as their runner builds them."""
    app = APPS[service](tmp_path)
    public = re.compile(f"{OPS}|{PUBLIC[service]}" if service in PUBLIC else OPS)
    routes = list(_api_routes(app.routes))
    unguarded = [
        f"{sorted(route.methods)} {route.path}"
        for route in routes
        if not _guarded(route) and not public.search(route.path)
    ]
    assert unguarded == []
    guarded = [r for r in routes if _guarded(r)]
    if service != "gateway":
        assert guarded, "a service with an operator API guards some route"
