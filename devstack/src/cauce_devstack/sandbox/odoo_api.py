"""Fake Odoo (``/odoo``): the JSON-RPC API (Odoo 16-18) and the JSON-2 API (Odoo 19+)
over the same in-memory records, as the Odoo wire contract crm-sync speaks describes.

API:

- ``POST /odoo/jsonrpc``, ``{"jsonrpc": "2.0", "method": "call", "params": {"service",
  "method", "args"}, "id"}``:
  - ``common.version()`` -> ``server_version`` (``SandboxSettings.odoo_version``) and
    ``server_version_info``, ``server_serie``, ``protocol_version``;
  - ``common.login(db, login, password)`` / ``common.authenticate(db, login, password,
    user_agent_env)`` -> the uid (``odoo_uid``), or ``false`` on bad credentials;
  - ``object.execute_kw(db, uid, password, model, method, args, kwargs)`` with
    ``create``, ``write``, ``search``, ``search_read``, ``read``, ``unlink``,
    ``search_count`` (:mod:`cauce_devstack.sandbox.odoo_methods`) and ``load`` (args
    ``[fields, data]``: Odoo's import, :mod:`cauce_devstack.sandbox.odoo_load`; rows
    with ``.id`` update, others create; answers ``{"ids", "messages", "nextrow"}``, bad
    rows as ``ids: false`` with error messages, not as an error envelope). A wrong
    uid/password is ``odoo.exceptions.AccessDenied``.
  The password is ``odoo_password`` or any of ``odoo_api_keys``. Results are
  ``{"jsonrpc", "id", "result"}``; errors are HTTP 200 envelopes
  (:mod:`cauce_devstack.sandbox.odoo_errors`). A database other than ``odoo_db``
  answers ``psycopg2.OperationalError`` ("database ... does not exist"), as a
  self-hosted Odoo does.
- ``POST /odoo/json/2/{model}/{method}``, ``Authorization: bearer <api key>`` (one of
  ``odoo_api_keys``, else 401 ``werkzeug.exceptions.Unauthorized`` "Invalid apikey"),
  optional ``X-Odoo-Database`` (another database: 404 ``werkzeug.exceptions.NotFound``),
  named params (``ids`` for record methods, ``vals_list``, ``vals``, ``domain``,
  ``fields``, ``limit``, ``offset``, ``order``, ``context``; ``load`` takes ``fields``
  and ``data``). Success: HTTP 200 with the return value (``create`` always answers a
  list of ids; a ``load`` with bad rows too, its result saying ``ids: false``); errors:
  the error's HTTP status with ``{"name", "message", "arguments", "context", "debug"}``.
- ``GET /odoo/web/version`` -> ``{"version", "version_info"}`` (no auth).

Every ``/odoo`` request passes, in order: an outage (``POST /sandbox/odoo/outage``:
that status and a proxy's HTML page), the rate limit (``odoo_rate_limit_per_second``
over all Odoo requests in a sliding 1 s window: HTTP 429, plain body, ``Retry-After``),
``odoo_latency_ms``, then, for business calls only (``object.*`` and JSON-2), armed
faults with ``target: "odoo"`` (see :mod:`cauce_devstack.sandbox.faults`).

Outbox: accepted requests are recorded with ``provider="odoo"``, ``kind="rpc"``,
``type`` = ``"<model>.<method>"`` / ``"common.<method>"`` / ``"web.version"``,
``phone_number_id`` = the database, ``message_id`` = the ids a ``create`` or ``load``
answered, and the request body as ``payload`` with the JSON-RPC password replaced by
``"<redacted>"`` (JSON-2 keys travel in a header and are never recorded). Refusals
(outages, 429s, faults, 4xx/5xx, and what Odoo answers with HTTP 200 but is a failure:
JSON-RPC error envelopes, failed logins, a ``load`` whose result is ``ids: false``) are
recorded by this module as ``kind="refused"`` with the status and the body answered:
the generic refusal recorder would keep the password.

Sandbox-only (not rate limited, not recorded): ``GET /sandbox/odoo/records/{model}``
(every record, every field), ``PATCH /sandbox/odoo/records/{model}/{id}`` (change a
record as a person in Odoo would; ``write_date`` becomes now, or the ``write_date``
given), ``DELETE /sandbox/odoo/records`` (delete every record), ``POST/GET/DELETE
/sandbox/odoo/outage`` and ``GET /sandbox/odoo/metrics`` (accepted, rate-limited, most
requests accepted in any 1 s window).
"""

from __future__ import annotations

import asyncio
import copy
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field

from cauce_devstack.sandbox.faults import Fault, get_faults
from cauce_devstack.sandbox.odoo_errors import (
    BAD_REQUEST,
    KEY_ERROR,
    NOT_FOUND,
    SERVER_ERROR,
    OdooError,
    access_denied,
    invalid_apikey,
    session_expired,
    type_error,
    unknown_database,
)
from cauce_devstack.sandbox.odoo_methods import call_json2, call_kw
from cauce_devstack.sandbox.odoo_records import OdooRecords
from cauce_devstack.sandbox.outbox import get_outbox
from cauce_devstack.sandbox.settings import SandboxSettings
from cauce_devstack.sandbox.throughput import NumberMetrics, ThroughputLimiter, retry_after_header

REDACTED = "<redacted>"
_LIMITER_KEY = "odoo"


@dataclass
class Outage:
    status: int
    ends_at: float
    """``time.monotonic()`` when it ends."""


class OdooState:
    """The fake Odoo of one sandbox app: records, rate limiter, outage, credentials."""

    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self.records = OdooRecords(settings.odoo_models, settings.odoo_uid)
        self.limiter = ThroughputLimiter(
            settings.odoo_rate_limit_per_second, enforced=settings.odoo_rate_limit_enforced
        )
        self.outage: Outage | None = None

    def outage_status(self) -> int | None:
        if self.outage is not None and self.outage.ends_at <= time.monotonic():
            self.outage = None
        return self.outage.status if self.outage else None

    def password_ok(self, secret: Any) -> bool:
        """``odoo_password`` or an API key (Odoo takes either as the RPC password)."""
        return isinstance(secret, str) and (
            _matches(secret, [self.settings.odoo_password.get_secret_value()])
            or self.api_key_ok(secret)
        )

    def api_key_ok(self, key: str) -> bool:
        return _matches(key, [k.get_secret_value() for k in self.settings.odoo_api_keys])

    def check_db(self, db: Any) -> None:
        if db != self.settings.odoo_db:
            raise unknown_database(str(db))

    def version_info(self) -> list[Any]:
        major, minor = (int(part) for part in self.settings.odoo_version.split("."))
        return [major, minor, 0, "final", 0, ""]


def _matches(given: str, accepted: list[str]) -> bool:
    # Compare against every candidate: no early exit that would time which one matched.
    results = [hmac.compare_digest(given.encode(), value.encode()) for value in accepted]
    return any(results)


def get_state(request: Request) -> OdooState:
    state: OdooState = request.app.state.odoo
    return state


@dataclass
class Call:
    """What one request asks, as the outbox shows it (no secrets)."""

    type: str
    db: str
    payload: dict[str, Any]
    business: bool
    api: Literal["jsonrpc", "json2", "web"]
    rpc_id: Any = None


_NOT_JSON = object()


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw.strip() else None
    except ValueError:
        return _NOT_JSON


def _payload(body: Any, raw: bytes) -> dict[str, Any]:
    if isinstance(body, dict):
        return body
    if body is _NOT_JSON:
        # Never keep unparsed text: it may hold a password.
        return {"invalid_json": True, "bytes": len(raw)}
    return {"body": body}


def _describe_jsonrpc(body: Any, raw: bytes, default_db: str) -> Call:
    params = body.get("params") if isinstance(body, dict) else None
    params = params if isinstance(params, dict) else {}
    service, method, args = params.get("service"), params.get("method"), params.get("args")
    args = args if isinstance(args, list) else []
    kind = f"{service}.{method}" if service and method else "unknown"
    if service == "object" and len(args) > 4 and isinstance(args[3], str):
        kind = f"{args[3]}.{args[4]}"
    payload = _payload(body, raw)
    if isinstance(body, dict) and len(args) > 2:
        payload = copy.deepcopy(body)
        payload["params"]["args"][2] = REDACTED
    return Call(
        type=kind,
        db=args[0] if args and isinstance(args[0], str) else default_db,
        payload=payload,
        business=service == "object",
        api="jsonrpc",
        rpc_id=body.get("id") if isinstance(body, dict) else None,
    )


def _body_of(response: Response) -> Any:
    raw = bytes(response.body)
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode("utf-8", "replace")


def _answer(
    request: Request, call: Call, response: Response, *, refused: bool, message_id: str = ""
) -> Response:
    """Record ``call`` in the outbox with what it got, and answer it."""
    get_outbox(request).record(
        provider="odoo",
        kind="refused" if refused else "rpc",
        phone_number_id=call.db,
        type=call.type,
        message_id=message_id,
        payload=call.payload,
        status=response.status_code,
        error=_body_of(response) if refused else None,
    )
    return response


def proxy_page(status: int) -> HTMLResponse:
    """What a reverse proxy answers when Odoo behind it is down or failing."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Server Error"
    return HTMLResponse(
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n",
        status_code=status,
    )


def _too_many(retry_after: int) -> PlainTextResponse:
    return PlainTextResponse(
        "429 Too Many Requests: too many requests to this Odoo, slow down.\n",
        status_code=429,
        headers={"Retry-After": str(retry_after)},
    )


async def _fault_response(fault: Fault, call: Call, settings: SandboxSettings) -> Response | None:
    """The answer an armed fault stands for (``None``: latency only, carry on)."""
    if fault.kind == "latency":
        await asyncio.sleep(fault.latency_ms / 1000)
        return None
    if fault.kind == "429":
        return _too_many(fault.retry_after)
    if fault.kind == "5xx":
        return proxy_page(fault.status)
    if fault.kind == "token_expired":
        if call.api == "jsonrpc":
            return JSONResponse(session_expired().jsonrpc_body(call.rpc_id))
        return invalid_apikey().json2_response()
    await asyncio.sleep(settings.drop_hold_s)
    return Response(status_code=504)


async def _gate(request: Request, call: Call) -> Response | None:
    """Outage, rate limit, latency, faults: the refusal (already recorded), if any."""
    state = get_state(request)
    outage = state.outage_status()
    if outage is not None:
        return _answer(request, call, proxy_page(outage), refused=True)
    wait_s = state.limiter.admit(_LIMITER_KEY)
    if wait_s is not None:
        return _answer(request, call, _too_many(retry_after_header(wait_s)), refused=True)
    if state.settings.odoo_latency_ms > 0:
        await asyncio.sleep(state.settings.odoo_latency_ms / 1000)
    fault = get_faults(request).take("odoo") if call.business else None
    if fault is not None:
        response = await _fault_response(fault, call, state.settings)
        if response is not None:
            return _answer(request, call, response, refused=True)
    return None


def _created_ids(call: Call, result: Any) -> str:
    """The ids a ``create`` answered, or those a ``load`` created or updated."""
    if call.type.endswith(".load") and isinstance(result, dict):
        result = result.get("ids") or []
    elif not call.type.endswith(".create"):
        return ""
    ids = result if isinstance(result, list) else [result]
    return ",".join(str(i) for i in ids)


def _failed_load(call: Call, result: Any) -> bool:
    """A ``load`` that changed nothing: Odoo answers it as a result, it is a refusal."""
    return call.type.endswith(".load") and isinstance(result, dict) and result.get("ids") is False


# --- JSON-RPC ---------------------------------------------------------------------------


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
            and _matches(login, [state.settings.odoo_login])
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


def _serving(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, any unexpected Python exception reported as Odoo reports it (a
    named server error) rather than as a crash of the fake."""
    try:
        return fn(*args)
    except OdooError:
        raise
    except Exception as exc:
        raise OdooError(f"builtins.{type(exc).__name__}", str(exc)) from exc


router = APIRouter(prefix="/odoo", tags=["odoo"])
sandbox_router = APIRouter(prefix="/sandbox/odoo", tags=["sandbox"])


@router.post("/jsonrpc")
async def jsonrpc(request: Request) -> Response:
    state = get_state(request)
    raw = await request.body()
    body = _parse_json(raw)
    call = _describe_jsonrpc(body, raw, state.settings.odoo_db)
    refusal = await _gate(request, call)
    if refusal is not None:
        return refusal
    if not isinstance(body, dict):
        return _answer(
            request, call, PlainTextResponse("Invalid JSON data", status_code=400), refused=True
        )
    try:
        result = _serving(_dispatch_rpc, state, body)
    except OdooError as error:
        return _answer(request, call, JSONResponse(error.jsonrpc_body(call.rpc_id)), refused=True)
    response = JSONResponse({"jsonrpc": "2.0", "id": call.rpc_id, "result": result})
    failed_login = call.type in ("common.login", "common.authenticate") and result is False
    return _answer(
        request,
        call,
        response,
        refused=failed_login or _failed_load(call, result),
        message_id=_created_ids(call, result),
    )


# --- JSON-2 -----------------------------------------------------------------------------


def _bearer(request: Request) -> str | None:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    return (key.strip() or None) if scheme.lower() == "bearer" else None


@router.post("/json/2/{model}/{method}")
async def json2(model: str, method: str, request: Request) -> Response:
    state = get_state(request)
    raw = await request.body()
    body = _parse_json(raw)
    db = request.headers.get("x-odoo-database") or state.settings.odoo_db
    call = Call(
        type=f"{model}.{method}", db=db, payload=_payload(body, raw), business=True, api="json2"
    )
    refusal = await _gate(request, call)
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
        result = _serving(call_json2, state.records, model, method, body)
    except OdooError as error:
        return _answer(request, call, error.json2_response(), refused=True)
    return _answer(
        request,
        call,
        JSONResponse(result),
        refused=_failed_load(call, result),
        message_id=_created_ids(call, result),
    )


@router.get("/web/version")
async def web_version(request: Request) -> Response:
    state = get_state(request)
    call = Call(
        type="web.version", db=state.settings.odoo_db, payload={}, business=False, api="web"
    )
    refusal = await _gate(request, call)
    if refusal is not None:
        return refusal
    body = {"version": state.settings.odoo_version, "version_info": state.version_info()}
    return _answer(request, call, JSONResponse(body), refused=False)


@router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def unknown_path(path: str, request: Request) -> Response:
    """Anything else: Odoo's 404 page (recorded, so a wrong URL shows in the outbox)."""
    state = get_state(request)
    call = Call(
        type=f"{request.method} /{path}",
        db=state.settings.odoo_db,
        payload={},
        business=False,
        api="web",
    )
    refusal = await _gate(request, call)
    if refusal is not None:
        return refusal
    page = HTMLResponse("<h1>404: Not Found</h1>", status_code=404)
    return _answer(request, call, page, refused=True)


# --- sandbox-only -----------------------------------------------------------------------


class OutageSpec(BaseModel):
    seconds: float = Field(gt=0, le=86_400)
    status: int = Field(default=503, ge=500, le=599)


class OutageView(BaseModel):
    active: bool
    status: int | None = None
    remaining_s: float = 0.0


def _outage_view(state: OdooState) -> OutageView:
    status = state.outage_status()
    if status is None or state.outage is None:
        return OutageView(active=False)
    remaining = max(state.outage.ends_at - time.monotonic(), 0.0)
    return OutageView(active=True, status=status, remaining_s=round(remaining, 3))


@sandbox_router.post("/outage", response_model=OutageView)
async def start_outage(spec: OutageSpec, request: Request) -> OutageView:
    """Every ``/odoo`` request answers ``status`` (a proxy's page) for ``seconds``."""
    state = get_state(request)
    state.outage = Outage(status=spec.status, ends_at=time.monotonic() + spec.seconds)
    return _outage_view(state)


@sandbox_router.get("/outage", response_model=OutageView)
async def read_outage(request: Request) -> OutageView:
    return _outage_view(get_state(request))


@sandbox_router.delete("/outage")
async def end_outage(request: Request) -> dict[str, bool]:
    state = get_state(request)
    active = state.outage_status() is not None
    state.outage = None
    return {"ended": active}


@sandbox_router.get("/records/{model}")
async def list_records(model: str, request: Request) -> Response:
    """Every record of ``model``, every field, by id (not rate limited, not recorded)."""
    try:
        return JSONResponse(get_state(request).records.dump(model))
    except OdooError as error:
        return JSONResponse({"detail": error.message}, status_code=404)


@sandbox_router.patch("/records/{model}/{record_id}")
async def patch_record(model: str, record_id: int, request: Request) -> Response:
    """Change fields behind the client's back, like a person in Odoo's UI: validated like
    a ``write``; ``write_date`` becomes now unless the body gives one (to stage an edit
    made in the past). Errors answer as JSON-2 does."""
    try:
        vals = json.loads(await request.body())
    except ValueError:
        vals = None
    if not isinstance(vals, dict):
        return JSONResponse({"detail": "the body must be a JSON object of fields"}, 422)
    try:
        return JSONResponse(get_state(request).records.patch(model, record_id, vals))
    except OdooError as error:
        return error.json2_response()


@sandbox_router.delete("/records")
async def wipe_records(request: Request) -> dict[str, int]:
    """Delete every record of every model (ids keep counting, as in Odoo)."""
    return {"deleted": get_state(request).records.wipe()}


@sandbox_router.get("/metrics", response_model=NumberMetrics)
async def read_metrics(request: Request) -> NumberMetrics:
    """Odoo requests accepted and rate-limited, and the most accepted in any 1 s window
    (whether a client kept to Odoo's rate limit)."""
    limiter = get_state(request).limiter
    measured = limiter.metrics().get(_LIMITER_KEY)
    if measured is not None:
        return measured
    return NumberMetrics(
        limit_per_second=limiter.default_limit if limiter.enforced else None,
        accepted=0,
        rate_limited=0,
        max_in_any_1s_window=0,
    )


def install(app: FastAPI) -> None:
    """Mount the fake on ``app`` (whose ``state.settings``, outbox and faults exist)."""
    app.state.odoo = OdooState(app.state.settings)
    app.include_router(router)
    app.include_router(sandbox_router)


__all__ = ["REDACTED", "OdooState", "install", "proxy_page"]
