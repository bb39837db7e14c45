"""Build the Odoo client the settings ask for."""

from __future__ import annotations

import httpx

from cauce_crm_sync.odoo.api import OdooApi, Throttle
from cauce_crm_sync.odoo.json2 import Json2Odoo
from cauce_crm_sync.odoo.jsonrpc import JsonRpcOdoo
from cauce_crm_sync.settings import CrmSyncSettings
from cauce_runtime import traced_http_client


def connect_odoo(
    settings: CrmSyncSettings,
    *,
    throttle: Throttle | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> OdooApi:
    """A JSON-RPC or JSON-2 client (``settings.odoo_api``) with its own traced HTTP
    client, closed by ``aclose()``. No request is made until the first call.

    ``throttle`` is awaited before every request (the shared rate limiter);
    ``transport`` replaces the network (tests).
    """
    http = traced_http_client(
        timeout=settings.odoo_timeout_s,
        transport=transport,
        headers={"User-Agent": f"cauce-{settings.service_name}"},
    )
    if settings.odoo_api == "json2":
        return Json2Odoo(
            http, settings.odoo_url, settings.odoo_db, settings.odoo_api_key, throttle=throttle
        )
    return JsonRpcOdoo(
        http,
        settings.odoo_url,
        settings.odoo_db,
        settings.odoo_login,
        settings.odoo_password,
        throttle=throttle,
    )
