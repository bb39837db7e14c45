"""The Odoo fake: the two API styles crm-sync speaks, over the same in-memory records,
refusing what Odoo refuses with Odoo's error names, at Odoo's rate limit.

Modules here import ``SandboxSettings`` for type checking only: the settings import this
package's field specs, so a run-time import would be circular.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cauce_devstack.sandbox.odoo import json2, jsonrpc, sandbox_routes, web

if TYPE_CHECKING:
    from fastapi import FastAPI

OPENAPI_TAG: dict[str, Any] = {
    "name": "odoo",
    "description": """\
Odoo under ``/odoo``: the JSON-RPC API (Odoo 16-18) and the JSON-2 API (Odoo 19+) over
the same in-memory records of ``CAUCE_SANDBOX_ODOO_MODELS`` (by default the
``manychat.contact`` / ``manychat.state`` models crm-sync writes).

**Every request** passes, in order: an outage (``POST /sandbox/odoo/outage``: that status
and a proxy's HTML page); the rate limit (``CAUCE_SANDBOX_ODOO_RATE_LIMIT_PER_SECOND`` over
all Odoo requests, logins included, in a sliding 1 s window: HTTP 429, plain body,
``Retry-After``); ``CAUCE_SANDBOX_ODOO_LATENCY_MS``; then, for business calls only
(``object.*`` and JSON-2), faults armed with ``target: "odoo"``: ``429`` and ``5xx`` as a
proxy answers them, ``token_expired`` as ``odoo.http.SessionExpiredException`` (JSON-RPC)
or a JSON-2 401.

**Errors** are named by their Python exception (``data.name`` in JSON-RPC, ``name`` in
JSON-2). JSON-RPC answers HTTP 200 with ``{"jsonrpc", "id", "error": {"code", "message",
"data": {"name", "debug", "message", "arguments", "context"}}}``, ``code`` 200 ("Odoo
Server Error") except for an expired session (100, "Odoo Session Expired"). JSON-2
answers the error's HTTP status with ``{"name", "message", "arguments", "context",
"debug"}``: 401 Unauthorized, 403 AccessError/AccessDenied, 404 MissingError/NotFound,
422 ValidationError/UserError/ValueError/TypeError, 500 the rest.

**Values** are refused as Odoo refuses them: a field the model does not have is
``builtins.ValueError``; a required field unset on create (or set to ``False`` on write),
a value of the wrong type or outside a selection is ``odoo.exceptions.ValidationError``;
a date/datetime not exactly ``YYYY-MM-DD`` / ``YYYY-MM-DD HH:MM:SS`` is
``builtins.ValueError``; ids that do not exist (write, read, unlink) are
``odoo.exceptions.MissingError``. ``id``, ``create_date``, ``write_date``, ``create_uid``
and ``write_uid`` in vals are ignored. A request is one transaction (a batch create with
one bad vals creates nothing). Records have ids from 1 and ``create_date`` /
``write_date`` (naive UTC, read back as ``YYYY-MM-DD HH:MM:SS``); unset values read back
as ``false`` (``0`` / ``0.0`` for integer / float fields).

**Domains**: leaves ``[field, operator, value]`` and the prefix operators ``&``, ``|``,
``!``; terms not joined by an operator are ANDed. Operators ``=``, ``!=`` (``<>``),
``in``, ``not in``, ``<``, ``<=``, ``>``, ``>=``, ``like``, ``ilike``, ``not like``,
``not ilike``, ``=like``, ``=ilike``; ``[1, "=", 1]`` / ``[0, "=", 1]`` are always true /
false. ``= false`` matches unset values, comparisons with an unset value are false, and
the negative operators (``!=``, ``not in``, ``not like``) match unset values too.
``order`` is like ``"write_date desc, id"``: unset values sort last ascending, first
descending.

**``load(fields, data)``**, Odoo's import: ``fields`` names the columns, each row of
``data`` holds values in that order. The column ``.id`` holds the database id of a
record to update; a row without one creates a record. Values come in import format: text
for char/text/selection, ``""`` (any falsy value) for empty, ``YYYY-MM-DD HH:MM:SS`` (UTC:
the fake's user is on UTC; send ``context={"tz": "UTC"}`` to a real Odoo) and
``YYYY-MM-DD``, numeric strings, ``1``/``0``/``true``/``false``/``yes``/``no``; JSON
numbers, booleans and ``null`` too. Problems with rows are not errors: the call answers
``{"ids": false, "messages": [...], "nextrow": 0}``, each message ``{"type": "error",
"message", "record": <row index>, "rows": {"from", "to"}, "field"}``, every problem of
every row reported (header ones first, with ``record`` 0), and nothing changes; an
unknown boolean text is only a warning (taken as true). Success answers ``{"ids": [one
per row], "messages": [], "nextrow": 0}``. Malformed arguments (``fields`` not a list of
names, ``data`` not a list of rows, a row of the wrong length) are errors. Not modelled:
external ids (column ``id``), relational paths (``partner_id/id``).

**Outbox**: accepted requests with ``provider="odoo"``, ``kind="rpc"``, ``type``
``"<model>.<method>"`` / ``"common.<method>"`` / ``"web.version"``, ``phone_number_id``
the database, ``message_id`` the ids a ``create`` or ``load`` answered, and the body as
``payload`` with the JSON-RPC password replaced by ``"<redacted>"`` (JSON-2 keys travel
in a header and are never recorded). Refusals (outages, 429s, faults, 4xx/5xx, and what
Odoo answers with HTTP 200 but is a failure: JSON-RPC errors, failed logins, a ``load``
answering ``ids: false``) are recorded as ``kind="refused"`` with the status and body.""",
}


def install(app: FastAPI) -> None:
    """Mount the fake's routes on ``app`` (its state is the wired ``Sandbox``'s)."""
    app.include_router(jsonrpc.router)
    app.include_router(json2.router)
    app.include_router(web.router)
    app.include_router(sandbox_routes.router)


__all__ = ["OPENAPI_TAG", "install"]
