"""Odoo's JSON-2 API (Odoo 19+): ``POST {base}/json/2/{model}/{method}`` with named
parameters, ``Authorization: bearer <api key>`` and ``X-Odoo-Database``.

No login and no session: every call carries the key. A success is HTTP 200 with the
method's return value as the body; an error is a 4xx/5xx with Odoo's error body
(``{"name": "odoo.exceptions.ValidationError", "message": ...}``), classified by
``name`` (:mod:`cauce_crm_sync.odoo.classify`); 401 is :class:`OdooCredentialsRejected`.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import SecretStr

from cauce_crm_sync.odoo import replies
from cauce_crm_sync.odoo.api import IMPORT_CONTEXT, Domain, Throttle, Vals
from cauce_crm_sync.odoo.classify import from_response, unreadable
from cauce_crm_sync.odoo.exchange import OdooExchange, given


class Json2Odoo:
    """:class:`~cauce_crm_sync.odoo.api.OdooApi` over ``/json/2``."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        db: str,
        api_key: SecretStr,
        *,
        throttle: Throttle | None = None,
    ) -> None:
        self._exchange = OdooExchange(http, "odoo_json2", throttle)
        self._base = base_url.rstrip("/")
        self._db = db
        self._api_key = api_key

    # --- the API -------------------------------------------------------------------

    async def version(self) -> dict[str, Any]:
        result = await self._exchange.request(
            "GET", f"{self._base}/web/version", target="web", method="version", read=_read_body
        )
        return replies.mapping(result)

    async def create(self, model: str, vals_list: list[Vals]) -> list[int]:
        if not vals_list:
            return []
        result = await self._call(model, "create", {"vals_list": list(vals_list)})
        return replies.created_ids(result, len(vals_list))

    async def write(self, model: str, ids: list[int], vals: Vals) -> None:
        if ids:
            await self._call(model, "write", {"ids": list(ids), "vals": vals})

    async def load(self, model: str, fields: list[str], rows: list[list[Any]]) -> list[int]:
        if not rows:
            return []
        body = {
            "fields": list(fields),
            "data": [list(r) for r in rows],
            "context": IMPORT_CONTEXT,
        }
        return replies.loaded_ids(await self._call(model, "load", body), len(rows))

    async def search(
        self, model: str, domain: Domain, *, limit: int | None = None, order: str | None = None
    ) -> list[int]:
        body = {"domain": domain, **given(limit=limit, order=order)}
        return replies.id_list(await self._call(model, "search", body))

    async def search_read(
        self,
        model: str,
        domain: Domain,
        fields: list[str],
        *,
        limit: int | None = None,
        offset: int = 0,
        order: str | None = None,
    ) -> list[dict[str, Any]]:
        body = {
            "domain": domain,
            "fields": fields,
            **given(limit=limit, offset=offset or None, order=order),
        }
        return replies.record_list(await self._call(model, "search_read", body))

    async def read(self, model: str, ids: list[int], fields: list[str]) -> list[dict[str, Any]]:
        if not ids:
            return []
        result = await self._call(model, "read", {"ids": list(ids), "fields": fields})
        return replies.record_list(result)

    async def unlink(self, model: str, ids: list[int]) -> None:
        if ids:
            await self._call(model, "unlink", {"ids": list(ids)})

    async def aclose(self) -> None:
        await self._exchange.aclose()

    # --- one request -----------------------------------------------------------------

    async def _call(self, model: str, method: str, body: dict[str, Any]) -> Any:
        headers = {"Authorization": f"bearer {self._api_key.get_secret_value()}"}
        if self._db:
            headers["X-Odoo-Database"] = self._db
        return await self._exchange.request(
            "POST",
            f"{self._base}/json/2/{model}/{method}",
            json=body,
            headers=headers,
            target=model,
            method=method,
            read=_read_body,
        )


def _read_body(response: httpx.Response) -> Any:
    """The return value of a 200; anything else is classified."""
    if response.status_code != 200:
        raise from_response(response)
    try:
        return response.json()
    except ValueError:
        raise unreadable(response.status_code) from None
