"""Odoo's JSON-2 API (Odoo 19+): one ORM method per URL, named params, an API key as
bearer."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from cauce_devstack.sandbox.bootstrap import SandboxDep
from cauce_devstack.sandbox.odoo.errors import (
    BAD_REQUEST,
    NOT_FOUND,
    OdooError,
    invalid_apikey,
    serving,
)
from cauce_devstack.sandbox.odoo.gate import gate
from cauce_devstack.sandbox.odoo.methods import call_json2
from cauce_devstack.sandbox.odoo.recording import (
    Call,
    answer,
    created_ids,
    failed_load,
    parse_json,
    payload_of,
)

router = APIRouter(prefix="/odoo", tags=["odoo"])


def _bearer(request: Request) -> str | None:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    return (key.strip() or None) if scheme.lower() == "bearer" else None


@router.post("/json/2/{model}/{method}", summary="JSON-2: call one ORM method")
async def json2(model: str, method: str, request: Request, sandbox: SandboxDep) -> Response:
    """``Authorization: bearer <api key>`` (one of ``CAUCE_SANDBOX_ODOO_API_KEYS``, else
    401 ``werkzeug.exceptions.Unauthorized`` "Invalid apikey"), optional
    ``X-Odoo-Database`` (another database: 404 ``werkzeug.exceptions.NotFound``). The
    body holds named params: ``ids`` for record methods, ``vals_list``, ``vals``,
    ``domain``, ``fields``, ``limit``, ``offset``, ``order``, ``context`` (ignored);
    ``load`` takes ``fields`` and ``data``.

    Success is HTTP 200 with the return value (``create`` always answers a list of ids; a
    ``load`` with bad rows too, its result saying ``ids: false``); an error answers its
    HTTP status with ``{"name", "message", "arguments", "context", "debug"}``.
    """
    state = sandbox.odoo
    raw = await request.body()
    body = parse_json(raw)
    db = request.headers.get("x-odoo-database") or state.settings.odoo_db
    call = Call(
        type=f"{model}.{method}", db=db, payload=payload_of(body, raw), business=True, api="json2"
    )
    refusal = await gate(sandbox, call)
    if refusal is not None:
        return refusal
    try:
        if db != state.settings.odoo_db:
            raise OdooError(NOT_FOUND, f"Database {db!r} not found.")
        key = _bearer(request)
        if key is None or not state.api_key_ok(key):
            raise invalid_apikey()
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise OdooError(BAD_REQUEST, "Invalid JSON data: expected an object of named params")
        result = serving(call_json2, state.records, model, method, body)
    except OdooError as error:
        return answer(sandbox.outbox, call, error.json2_response(), refused=True)
    return answer(
        sandbox.outbox,
        call,
        JSONResponse(result),
        refused=failed_load(call, result),
        message_id=created_ids(call, result),
    )
