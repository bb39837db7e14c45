"""The ORM calls crm-sync makes on Odoo, whatever the API style underneath.

Both :class:`~cauce_crm_sync.odoo.jsonrpc.JsonRpcOdoo` (``/jsonrpc``, Odoo 16-18) and
:class:`~cauce_crm_sync.odoo.json2.Json2Odoo` (``/json/2``, Odoo 19+) implement it;
:func:`~cauce_crm_sync.odoo.connect.connect_odoo` picks one from the settings. Every
method is one HTTP request to Odoo (JSON-RPC's login is one more, once), and each
request first awaits the ``throttle`` given to the client: the shared rate limiter.
Errors are :mod:`cauce_crm_sync.odoo.errors`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

#: A search domain: ``[["manychat_id", "in", ["a", "b"]], ["write_date", ">", "..."]]``,
#: with Odoo's prefix operators ``"&"``, ``"|"``, ``"!"`` allowed between terms.
Domain = list[Any]
#: Field values of one record, Odoo field names as keys.
Vals = dict[str, Any]
#: Context of ``load`` calls: Odoo's import reads datetimes in the context's (or the
#: user's) timezone, and cauce sends UTC.
IMPORT_CONTEXT: dict[str, Any] = {"tz": "UTC"}
#: Awaited before every request to Odoo (the rate limiter's slot).
Throttle = Callable[[], Awaitable[None]]


class OdooApi(Protocol):
    async def version(self) -> dict[str, Any]:
        """The server's version information."""
        ...

    async def create(self, model: str, vals_list: list[Vals]) -> list[int]:
        """Create records in one call; the new ids in the order of ``vals_list``."""
        ...

    async def write(self, model: str, ids: list[int], vals: Vals) -> None:
        """Set the same ``vals`` on every record of ``ids`` in one call."""
        ...

    async def load(self, model: str, fields: list[str], rows: list[list[Any]]) -> list[int]:
        """Odoo's import (``load``): one call updating the records whose ``.id`` column
        is set (and creating the others), each row with its own values; the ids in row
        order. All or nothing: a bad row rejects the call."""
        ...

    async def search(
        self, model: str, domain: Domain, *, limit: int | None = None, order: str | None = None
    ) -> list[int]: ...

    async def search_read(
        self,
        model: str,
        domain: Domain,
        fields: list[str],
        *,
        limit: int | None = None,
        offset: int = 0,
        order: str | None = None,
    ) -> list[dict[str, Any]]: ...

    async def read(self, model: str, ids: list[int], fields: list[str]) -> list[dict[str, Any]]: ...

    async def unlink(self, model: str, ids: list[int]) -> None: ...

    async def aclose(self) -> None: ...
