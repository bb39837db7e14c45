"""Odoo's JSON-RPC API (Odoo 16-18): the ``common`` and ``object`` services crm-sync
logs in and calls the ORM through."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from cauce_devstack.sandbox.bootstrap import SandboxDep
from cauce_devstack.sandbox.odoo.errors import (
    KEY_ERROR,
    SERVER_ERROR,
    OdooError,
    access_denied,
    serving,
    type_error,
)
from cauce_devstack.sandbox.odoo.gate import gate
from cauce_devstack.sandbox.odoo.methods import call_kw
from cauce_devstack.sandbox.odoo.recording import (
    answer,
    created_ids,
    describe_jsonrpc,
    failed_load,
    parse_json,
)
from cauce_devstack.sandbox.odoo.state import OdooState, matches

router = APIRouter(prefix="/odoo", tags=["odoo"])


def _common(state: OdooState, method: Any, args: list[Any]) -> Any:
    if method == "version":
        return {
            "server_version": state.settings.odoo_version,
            "server_version_info": state.version_info(),
            "server_serie": state.settings.odoo_version,
            "protocol_version": 1,
        }
    if method in ("login", "authenticate"):
        expected = 3 if method == "login" else 4
        if len(args) != expected:
            raise type_error(
                f"exp_{method}() takes {expected} positional arguments but {len(args)} were given"
            )
        db, login, password = args[:3]
        state.check_db(db)
        ok = (
            isinstance(login, str)
            and matches(login, [state.settings.odoo_login])
            and state.password_ok(password)
        )
        return state.settings.odoo_uid if ok else False
    raise OdooError(SERVER_ERROR, f"Method not found: {method}")


def _object(state: OdooState, method: Any, args: list[Any]) -> Any:
    if method != "execute_kw":
        raise OdooError("builtins.NameError", f"Method not available {method}")
    if not 6 <= len(args) <= 7:
        raise type_error(
            f"execute_kw() takes from 6 to 7 positional arguments but {len(args)} were given"
        )
    db, uid, password, model, model_method, call_args = args[:6]
    state.check_db(db)
    uid_ok = isinstance(uid, int) and not isinstance(uid, bool) and uid == state.settings.odoo_uid
    if not (uid_ok and state.password_ok(password)):
        raise access_denied()
    return call_kw(
        state.records, model, model_method, call_args, args[6] if len(args) > 6 else None
    )


def _dispatch_rpc(state: OdooState, body: Any) -> Any:
    params = body.get("params") if isinstance(body, dict) else None
    if not isinstance(params, dict) or "service" not in params or "method" not in params:
        raise type_error("jsonrpc() missing required arguments: 'service', 'method', 'args'")
    args = params.get("args", [])
    if not isinstance(args, list):
        raise type_error(f"args must be a list, not {args!r}")
    if params["service"] == "common":
        return _common(state, params["method"], args)
    if params["service"] == "object":
        return _object(state, params["method"], args)
    raise OdooError(KEY_ERROR, repr(params["service"]))


@router.post("/jsonrpc", summary="JSON-RPC: common.* and object.execute_kw")
async def jsonrpc(request: Request, sandbox: SandboxDep) -> Response:
    """``{"jsonrpc": "2.0", "method": "call", "params": {"service", "method", "args"},
    "id"}``:

    - ``common.version()``: ``server_version`` (``CAUCE_SANDBOX_ODOO_VERSION``),
      ``server_version_info``, ``server_serie``, ``protocol_version``;
    - ``common.login(db, login, password)`` / ``common.authenticate(db, login, password,
      user_agent_env)``: the uid (``CAUCE_SANDBOX_ODOO_UID``), or ``false`` on bad
      credentials;
    - ``object.execute_kw(db, uid, password, model, method, args, kwargs)`` with
      ``create``, ``write``, ``search``, ``search_read``, ``read``, ``unlink``,
      ``search_count`` and ``load`` (args ``[fields, data]``), bound against Odoo's
      signatures (record methods take the ids first; ``context`` is accepted and
      ignored). A wrong uid or password is ``odoo.exceptions.AccessDenied``.

    The password is ``CAUCE_SANDBOX_ODOO_PASSWORD`` or any of the API keys. Results are
    ``{"jsonrpc", "id", "result"}``; errors are HTTP 200 envelopes. A database other
    than ``CAUCE_SANDBOX_ODOO_DB`` answers ``psycopg2.OperationalError`` ("database ...
    does not exist"), as a self-hosted Odoo does.
    """
    state = sandbox.odoo
    raw = await request.body()
    body = parse_json(raw)
    call = describe_jsonrpc(body, raw, state.settings.odoo_db)
    refusal = await gate(sandbox, call)
    if refusal is not None:
        return refusal
    if not isinstance(body, dict):
        return answer(
            sandbox.outbox,
            call,
            PlainTextResponse("Invalid JSON data", status_code=400),
            refused=True,
        )
    try:
        result = serving(_dispatch_rpc, state, body)
    except OdooError as error:
        return answer(
            sandbox.outbox, call, JSONResponse(error.jsonrpc_body(call.rpc_id)), refused=True
        )
    response = JSONResponse({"jsonrpc": "2.0", "id": call.rpc_id, "result": result})
    failed_login = call.type in ("common.login", "common.authenticate") and result is False
    return answer(
        sandbox.outbox,
        call,
        response,
        refused=failed_login or failed_load(call, result),
        message_id=created_ids(call, result),
    )
