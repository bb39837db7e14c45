"""crm-sync's Odoo client on the wire (``httpx.MockTransport`` playing Odoo): the exact
requests of both API styles, logins and session expiry, how every failure is
classified (by Odoo's exception name, never its numeric code), the rate limiter's
slot per request, metrics, spans, and that no secret or record value reaches the logs.

The same client against the sandbox's Odoo fake over real HTTP is
``test_odoo_client_sandbox.py``.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from cauce_crm_sync.odoo import (
    OdooApi,
    OdooCredentialsRejected,
    OdooError,
    OdooOutcomeUnknown,
    OdooRejected,
    OdooUnavailable,
    connect_odoo,
)
from cauce_crm_sync.settings import CrmSyncSettings
from cauce_runtime import ServiceSettings, setup_telemetry
from cauce_runtime.telemetry import install_meter_provider

Style = Literal["jsonrpc", "json2"]

BASE = "https://odoo.test/base"
DB = "cauce-prod"
LOGIN = "crm-bot"
PASSWORD = "s3cret-odoo-password-41"
API_KEY = "s3cret-odoo-api-key-42"
UID = 7
MODEL = "manychat.contact"
PHONE = "573001234567"
EMAIL = "ana.perez@example.com"
V1 = {"manychat_id": "mc-1", "phone": PHONE, "email": EMAIL}
V2 = {"manychat_id": "mc-2", "nombre_lead": "Ana"}
DOMAIN = [["manychat_id", "in", ["mc-1", "mc-2"]]]

Answer = Callable[[httpx.Request, Any], "httpx.Response | Exception"]


class Wire:
    """Plays Odoo: records every request and its JSON body, answers with ``answer``
    (an exception it returns is raised, as the network would)."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests: list[httpx.Request] = []
        self.bodies: list[Any] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        body = json.loads(request.content) if request.content else None
        self.bodies.append(body)
        await asyncio.sleep(0)  # let concurrent callers run into each other
        result = self.answer(request, body)
        if isinstance(result, Exception):
            raise result
        return result

    def logins(self) -> int:
        return sum(1 for body in self.bodies if body is not None and is_login(body))


class Throttle:
    """Records how many requests had been sent each time it was awaited."""

    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self.sent_before: list[int] = []

    async def __call__(self) -> None:
        self.sent_before.append(len(self.wire.requests))


def settings(style: Style, **overrides: Any) -> CrmSyncSettings:
    values: dict[str, Any] = {
        "environment": "test",
        "odoo_api": style,
        "odoo_url": BASE + "/",
        "odoo_db": DB,
        "odoo_login": LOGIN,
        "odoo_password": SecretStr(PASSWORD),
        "odoo_api_key": SecretStr(API_KEY),
        "odoo_timeout_s": 5.0,
    }
    values.update(overrides)
    return CrmSyncSettings(_env_file=None, **values)


def client(style: Style, wire: Wire, throttle: Throttle | None = None) -> OdooApi:
    return connect_odoo(settings(style), throttle=throttle, transport=httpx.MockTransport(wire))


@pytest.fixture
async def closing() -> AsyncIterator[list[OdooApi]]:
    """Clients appended here are closed after the test."""
    clients: list[OdooApi] = []
    yield clients
    for odoo in clients:
        await odoo.aclose()


# --- JSON-RPC answers ---------------------------------------------------------------


def is_login(body: Any) -> bool:
    return bool(
        body["params"]["service"] == "common" and body["params"]["method"] == "authenticate"
    )


def orm_method(body: Any) -> str:
    method: str = body["params"]["args"][4]
    return method


def rpc_result(body: Any, result: Any) -> httpx.Response:
    return httpx.Response(200, json={"jsonrpc": "2.0", "id": body["id"], "result": result})


def rpc_error(body: Any, name: str, message: str = "it failed", code: int = 200) -> httpx.Response:
    error = {
        "code": code,
        "message": "Odoo Server Error",
        "data": {
            "name": name,
            "debug": "Traceback (most recent call last): ...",
            "message": message,
            "arguments": [message],
            "context": {},
        },
    }
    return httpx.Response(200, json={"jsonrpc": "2.0", "id": body["id"], "error": error})


def json2_error(status: int, name: str, message: str = "it failed") -> httpx.Response:
    return httpx.Response(
        status,
        json={"name": name, "message": message, "arguments": [message], "context": {}, "debug": ""},
    )


def logged_in(op: Answer) -> Answer:
    """JSON-RPC: ``authenticate`` succeeds, everything else is ``op``'s."""

    def answer(request: httpx.Request, body: Any) -> httpx.Response | Exception:
        if body is not None and is_login(body):
            return rpc_result(body, UID)
        return op(request, body)

    return answer


def named_error(style: Style, name: str, code_or_status: int, message: str) -> Answer:
    """Every call fails with Odoo's ``name``: a JSON-RPC envelope with the numeric
    ``code``, or a JSON-2 error body with the HTTP status."""
    if style == "jsonrpc":
        return lambda request, body: rpc_error(body, name, message, code_or_status)
    return lambda request, body: json2_error(code_or_status, name, message)


def scripted(style: Style, op: Answer, closing: list[OdooApi]) -> tuple[OdooApi, Wire]:
    """A client of ``style`` whose ORM calls ``op`` answers (JSON-RPC logins succeed)."""
    wire = Wire(logged_in(op) if style == "jsonrpc" else op)
    odoo = client(style, wire)
    closing.append(odoo)
    return odoo, wire


# --- the wire shapes ------------------------------------------------------------------


async def test_jsonrpc_requests(closing: list[OdooApi]) -> None:
    results = {
        "create": [11, 12],
        "write": True,
        "search": [11],
        "search_read": [{"id": 11, "manychat_id": "mc-1"}],
        "read": [{"id": 11, "manychat_id": "mc-1", "write_date": "2025-01-02 03:04:05"}],
        "unlink": True,
    }

    def answer(request: httpx.Request, body: Any) -> httpx.Response:
        params = body["params"]
        if params["service"] == "common":
            version = {"server_version": "17.0", "protocol_version": 1}
            return rpc_result(body, UID if params["method"] == "authenticate" else version)
        return rpc_result(body, results[orm_method(body)])

    wire = Wire(answer)
    throttle = Throttle(wire)
    odoo = client("jsonrpc", wire, throttle)
    closing.append(odoo)

    assert (await odoo.version())["server_version"] == "17.0"
    assert await odoo.create(MODEL, [V1, V2]) == [11, 12]
    await odoo.write(MODEL, [11, 12], {"ultimo_estado": "won"})
    assert await odoo.search(MODEL, DOMAIN, limit=5, order="id desc") == [11]
    assert await odoo.search_read(
        MODEL, DOMAIN, ["manychat_id"], limit=10, offset=20, order="id"
    ) == [{"id": 11, "manychat_id": "mc-1"}]
    assert await odoo.search_read(MODEL, [], ["manychat_id"]) == [{"id": 11, "manychat_id": "mc-1"}]
    read = await odoo.read(MODEL, [11], ["manychat_id", "write_date"])
    assert read[0]["write_date"] == "2025-01-02 03:04:05"
    await odoo.unlink(MODEL, [11, 12])
    # Nothing to do costs no request (nor a rate-limiter slot).
    assert await odoo.create(MODEL, []) == []
    await odoo.write(MODEL, [], {"ultimo_estado": "won"})
    assert await odoo.read(MODEL, [], ["id"]) == []
    await odoo.unlink(MODEL, [])

    assert {str(r.url) for r in wire.requests} == {f"{BASE}/jsonrpc"}
    assert {r.method for r in wire.requests} == {"POST"}
    assert all(r.headers["content-type"] == "application/json" for r in wire.requests)
    assert wire.bodies[0] == {
        "jsonrpc": "2.0",
        "method": "call",
        "params": {"service": "common", "method": "version", "args": []},
        "id": wire.bodies[0]["id"],
    }
    assert wire.bodies[1] == {
        "jsonrpc": "2.0",
        "method": "call",
        "params": {
            "service": "common",
            "method": "authenticate",
            "args": [DB, LOGIN, PASSWORD, {}],
        },
        "id": wire.bodies[1]["id"],
    }
    calls = wire.bodies[2:]
    assert all(b["jsonrpc"] == "2.0" and b["method"] == "call" for b in calls)
    assert {(b["params"]["service"], b["params"]["method"]) for b in calls} == {
        ("object", "execute_kw")
    }
    head = [DB, UID, PASSWORD, MODEL]
    assert [b["params"]["args"] for b in calls] == [
        [*head, "create", [[V1, V2]], {}],
        [*head, "write", [[11, 12], {"ultimo_estado": "won"}], {}],
        [*head, "search", [DOMAIN], {"limit": 5, "order": "id desc"}],
        [
            *head,
            "search_read",
            [DOMAIN],
            {"fields": ["manychat_id"], "limit": 10, "offset": 20, "order": "id"},
        ],
        [*head, "search_read", [[]], {"fields": ["manychat_id"]}],
        [*head, "read", [[11]], {"fields": ["manychat_id", "write_date"]}],
        [*head, "unlink", [[11, 12]], {}],
    ]
    ids = [b["id"] for b in wire.bodies]
    assert len(set(ids)) == len(ids)
    # One login for every call; the limiter's slot awaited before each request.
    assert wire.logins() == 1
    assert throttle.sent_before == list(range(len(wire.requests))) == list(range(9))


async def test_json2_requests(closing: list[OdooApi]) -> None:
    results = {
        "create": [11, 12],
        "write": True,
        "search": [11],
        "search_read": [{"id": 11, "manychat_id": "mc-1"}],
        "read": [{"id": 11, "manychat_id": "mc-1"}],
        "unlink": True,
    }

    def answer(request: httpx.Request, body: Any) -> httpx.Response:
        if request.url.path == "/base/web/version":
            return httpx.Response(200, json={"version": "19.0", "version_info": [19, 0]})
        return httpx.Response(200, json=results[request.url.path.rsplit("/", 1)[1]])

    wire = Wire(answer)
    throttle = Throttle(wire)
    odoo = client("json2", wire, throttle)
    closing.append(odoo)

    assert (await odoo.version())["version"] == "19.0"
    assert await odoo.create(MODEL, [V1, V2]) == [11, 12]
    await odoo.write(MODEL, [11, 12], {"ultimo_estado": "won"})
    assert await odoo.search(MODEL, DOMAIN, limit=5, order="id desc") == [11]
    assert await odoo.search_read(
        MODEL, DOMAIN, ["manychat_id"], limit=10, offset=20, order="id"
    ) == [{"id": 11, "manychat_id": "mc-1"}]
    assert await odoo.search_read(MODEL, [], ["manychat_id"]) == [{"id": 11, "manychat_id": "mc-1"}]
    assert await odoo.read(MODEL, [11], ["manychat_id"]) == [{"id": 11, "manychat_id": "mc-1"}]
    await odoo.unlink(MODEL, [11, 12])
    assert await odoo.create(MODEL, []) == []
    await odoo.unlink(MODEL, [])

    version, *calls = wire.requests
    assert (version.method, str(version.url)) == ("GET", f"{BASE}/web/version")
    assert "authorization" not in version.headers
    assert [(r.method, str(r.url)) for r in calls] == [
        ("POST", f"{BASE}/json/2/{MODEL}/{method}")
        for method in ("create", "write", "search", "search_read", "search_read", "read", "unlink")
    ]
    for request in calls:
        assert request.headers["authorization"] == f"bearer {API_KEY}"
        assert request.headers["x-odoo-database"] == DB
        assert request.headers["content-type"] == "application/json"
    assert wire.bodies[1:] == [
        {"vals_list": [V1, V2]},
        {"ids": [11, 12], "vals": {"ultimo_estado": "won"}},
        {"domain": DOMAIN, "limit": 5, "order": "id desc"},
        {"domain": DOMAIN, "fields": ["manychat_id"], "limit": 10, "offset": 20, "order": "id"},
        {"domain": [], "fields": ["manychat_id"]},
        {"ids": [11], "fields": ["manychat_id"]},
        {"ids": [11, 12]},
    ]
    assert throttle.sent_before == list(range(len(wire.requests))) == list(range(8))


@pytest.mark.parametrize("style", ["jsonrpc", "json2"])
async def test_create_of_one_record_accepts_a_bare_id(style: Style, closing: list[OdooApi]) -> None:
    def op(request: httpx.Request, body: Any) -> httpx.Response:
        return rpc_result(body, 42) if style == "jsonrpc" else httpx.Response(200, json=42)

    odoo, _ = scripted(style, op, closing)
    assert await odoo.create(MODEL, [V2]) == [42]


# --- logins and sessions (JSON-RPC) -------------------------------------------------


@pytest.mark.parametrize("code", [100, 200])
async def test_an_expired_session_logs_in_again_once(code: int, closing: list[OdooApi]) -> None:
    expired = {"left": 1}

    def op(request: httpx.Request, body: Any) -> httpx.Response:
        if expired["left"]:
            expired["left"] -= 1
            return rpc_error(body, "odoo.http.SessionExpiredException", "Session expired", code)
        return rpc_result(body, [5])

    wire = Wire(logged_in(op))
    throttle = Throttle(wire)
    odoo = client("jsonrpc", wire, throttle)
    closing.append(odoo)
    assert await odoo.search(MODEL, DOMAIN) == [5]
    assert [is_login(b) for b in wire.bodies] == [True, False, True, False]
    assert wire.bodies[3] == {**wire.bodies[1], "id": wire.bodies[3]["id"]}  # the same call
    assert throttle.sent_before == [0, 1, 2, 3]
    # Still logged in afterwards.
    assert await odoo.search(MODEL, DOMAIN) == [5]
    assert wire.logins() == 2


async def test_a_session_that_expires_again_is_unavailable_after_one_new_login(
    closing: list[OdooApi],
) -> None:
    def op(request: httpx.Request, body: Any) -> httpx.Response:
        return rpc_error(body, "odoo.http.SessionExpiredException", "Session expired", 100)

    odoo, wire = scripted("jsonrpc", op, closing)
    with pytest.raises(OdooUnavailable) as raised:
        await odoo.write(MODEL, [1], {"ultimo_estado": "won"})
    assert type(raised.value) is OdooUnavailable
    assert raised.value.short_name == "SessionExpiredException"
    assert [is_login(b) for b in wire.bodies] == [True, False, True, False]
    # The stale session was dropped: the next call logs in afresh (and once more).
    with pytest.raises(OdooUnavailable):
        await odoo.write(MODEL, [1], {"ultimo_estado": "won"})
    assert [is_login(b) for b in wire.bodies[4:]] == [True, False, True, False]


async def test_concurrent_callers_share_one_login(closing: list[OdooApi]) -> None:
    wire = Wire(logged_in(lambda request, body: rpc_result(body, [1])))
    odoo = client("jsonrpc", wire)
    closing.append(odoo)
    results = await asyncio.gather(*(odoo.search(MODEL, DOMAIN) for _ in range(5)))
    assert results == [[1]] * 5
    assert wire.logins() == 1 and len(wire.requests) == 6


@pytest.mark.parametrize(
    "refusal",
    [
        pytest.param(lambda body: rpc_result(body, False), id="authenticate-false"),
        pytest.param(
            lambda body: rpc_error(body, "odoo.exceptions.AccessDenied", "Access Denied"),
            id="authenticate-AccessDenied",
        ),
    ],
)
async def test_a_refused_login_is_credentials_rejected(
    refusal: Callable[[Any], httpx.Response], closing: list[OdooApi]
) -> None:
    def answer(request: httpx.Request, body: Any) -> httpx.Response:
        return refusal(body) if is_login(body) else rpc_result(body, [1])

    wire = Wire(answer)
    throttle = Throttle(wire)
    odoo = client("jsonrpc", wire, throttle)
    closing.append(odoo)
    # Concurrent callers share the one refused login...
    outcomes = await asyncio.gather(
        *(odoo.search(MODEL, DOMAIN) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(o, OdooCredentialsRejected) for o in outcomes), outcomes
    assert wire.logins() == 1 and throttle.sent_before == [0]
    # ...and the next call tries again (someone may have fixed the password).
    with pytest.raises(OdooCredentialsRejected) as raised:
        await odoo.search(MODEL, DOMAIN)
    assert wire.logins() == 2
    assert raised.value.outcome_unknown is False
    assert PASSWORD not in str(raised.value)


async def test_access_denied_on_a_call_drops_the_session(closing: list[OdooApi]) -> None:
    denied = {"left": 1}

    def op(request: httpx.Request, body: Any) -> httpx.Response:
        if denied["left"]:
            denied["left"] -= 1
            return rpc_error(body, "odoo.exceptions.AccessDenied", "Access Denied")
        return rpc_result(body, [3])

    odoo, wire = scripted("jsonrpc", op, closing)
    with pytest.raises(OdooCredentialsRejected) as raised:
        await odoo.search(MODEL, DOMAIN)
    assert raised.value.short_name == "AccessDenied"
    assert wire.logins() == 1 and len(wire.requests) == 2  # no retry of its own
    assert await odoo.search(MODEL, DOMAIN) == [3]
    assert [is_login(b) for b in wire.bodies] == [True, False, True, False]


async def test_json2_401_is_credentials_rejected(closing: list[OdooApi]) -> None:
    odoo, _ = scripted(
        "json2",
        lambda request, body: json2_error(
            401, "werkzeug.exceptions.Unauthorized", "Invalid apikey"
        ),
        closing,
    )
    with pytest.raises(OdooCredentialsRejected) as raised:
        await odoo.create(MODEL, [V1])
    assert (raised.value.http_status, raised.value.short_name) == (401, "Unauthorized")
    assert API_KEY not in str(raised.value)
    # A bare 401 (a proxy, no Odoo body) is the same.
    odoo, _ = scripted("json2", lambda request, body: httpx.Response(401, text="no"), closing)
    with pytest.raises(OdooCredentialsRejected):
        await odoo.search(MODEL, DOMAIN)


# --- classification of Odoo's errors ------------------------------------------------

NAMED = [
    ("odoo.exceptions.AccessError", OdooRejected),
    ("odoo.exceptions.ValidationError", OdooRejected),
    ("odoo.exceptions.MissingError", OdooRejected),
    ("odoo.exceptions.UserError", OdooRejected),
    ("builtins.ValueError", OdooRejected),
    ("builtins.KeyError", OdooRejected),
    ("odoo.addons.base.models.ir_model.SomethingNew", OdooRejected),
    ("psycopg2.errors.SerializationFailure", OdooUnavailable),
    ("psycopg2.OperationalError", OdooUnavailable),
    ("odoo.exceptions.AccessDenied", OdooCredentialsRejected),
]


@pytest.mark.parametrize(("name", "expected"), NAMED)
async def test_jsonrpc_errors_are_classified_by_name_whatever_the_code(
    name: str, expected: type[OdooError], closing: list[OdooApi]
) -> None:
    raised: list[OdooError] = []
    for code in (200, 1, 100):
        odoo, wire = scripted(
            "jsonrpc",
            named_error("jsonrpc", name, code, "Odoo says no"),
            closing,
        )
        with pytest.raises(OdooError) as caught:
            await odoo.create(MODEL, [V1])
        raised.append(caught.value)
        assert wire.logins() == 1  # code 100 is not taken for an expired session
    for error in raised:
        assert type(error) is expected
        assert (error.code, error.message, error.http_status) == (name, "Odoo says no", 200)
        assert error.outcome_unknown is False  # Odoo rolled the call back


JSON2_NAMED = [
    ("odoo.exceptions.AccessError", 403, OdooRejected),
    ("odoo.exceptions.MissingError", 404, OdooRejected),
    ("odoo.exceptions.ValidationError", 422, OdooRejected),
    ("odoo.exceptions.UserError", 422, OdooRejected),
    ("builtins.ValueError", 422, OdooRejected),
    ("builtins.Exception", 500, OdooRejected),
    ("psycopg2.errors.SerializationFailure", 500, OdooUnavailable),
    ("psycopg2.OperationalError", 500, OdooUnavailable),
    ("odoo.exceptions.AccessDenied", 403, OdooCredentialsRejected),
]


@pytest.mark.parametrize(("name", "status", "expected"), JSON2_NAMED)
async def test_json2_errors_are_classified_by_name_whatever_the_status(
    name: str, status: int, expected: type[OdooError], closing: list[OdooApi]
) -> None:
    for answered in (status, 400, 500):
        odoo, _ = scripted(
            "json2",
            named_error("json2", name, answered, "Odoo says no"),
            closing,
        )
        with pytest.raises(OdooError) as caught:
            await odoo.write(MODEL, [1], {"ultimo_estado": "won"})
        assert type(caught.value) is expected
        assert (caught.value.code, caught.value.message) == (name, "Odoo says no")
        assert caught.value.http_status == answered and caught.value.outcome_unknown is False


async def test_long_odoo_messages_are_clipped(closing: list[OdooApi]) -> None:
    message = "Invalid value " + "x" * 5000
    odoo, _ = scripted(
        "json2",
        lambda request, body: json2_error(422, "odoo.exceptions.ValidationError", message),
        closing,
    )
    with pytest.raises(OdooRejected) as raised:
        await odoo.create(MODEL, [V1])
    assert len(raised.value.message) == 300 and raised.value.message.startswith("Invalid value x")


# --- HTTP answers without an Odoo error, unreadable answers, the network ------------


def _http_date_in(seconds: int) -> str:
    return email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=seconds), usegmt=True)


STATUSES = [
    # (status, headers, body, maybe_applied, retry_after)
    (429, {"Retry-After": "7"}, "Too many requests", False, 7.0),
    (429, {}, "<html>slow down</html>", False, None),
    (503, {"Retry-After": "120"}, "<html>maintenance</html>", False, 120.0),
    (502, {}, "<html>Bad Gateway</html>", True, None),
    (504, {}, "<html>Gateway Timeout</html>", True, None),
    (500, {}, "Internal Server Error", True, None),
    (404, {}, "<html>Not Found</html>", False, None),
]


@pytest.mark.parametrize("style", ["jsonrpc", "json2"])
@pytest.mark.parametrize(("status", "headers", "text", "maybe_applied", "retry_after"), STATUSES)
async def test_http_failures_without_an_odoo_error(
    style: Style,
    status: int,
    headers: dict[str, str],
    text: str,
    maybe_applied: bool,
    retry_after: float | None,
    closing: list[OdooApi],
) -> None:
    odoo, _ = scripted(
        style, lambda request, body: httpx.Response(status, headers=headers, text=text), closing
    )
    with pytest.raises(OdooUnavailable) as raised:
        await odoo.create(MODEL, [V1, V2])
    error = raised.value
    assert type(error) is (OdooOutcomeUnknown if maybe_applied else OdooUnavailable)
    assert (error.http_status, error.code) == (status, None)
    assert (error.outcome_unknown, error.retry_after) == (maybe_applied, retry_after)


@pytest.mark.parametrize("style", ["jsonrpc", "json2"])
async def test_retry_after_as_an_http_date(style: Style, closing: list[OdooApi]) -> None:
    odoo, _ = scripted(
        style,
        lambda request, body: httpx.Response(429, headers={"Retry-After": _http_date_in(60)}),
        closing,
    )
    with pytest.raises(OdooUnavailable) as raised:
        await odoo.search(MODEL, DOMAIN)
    assert raised.value.retry_after is not None and 0 < raised.value.retry_after <= 60


UNREADABLE = [
    pytest.param("jsonrpc", "<html>login</html>", id="jsonrpc-html"),
    pytest.param("jsonrpc", '{"jsonrpc": "2.0", "id": 2}', id="jsonrpc-no-result"),
    pytest.param("jsonrpc", "[1, 2]", id="jsonrpc-not-an-envelope"),
    pytest.param(
        "jsonrpc", '{"jsonrpc": "2.0", "id": 2, "result": [1]}', id="jsonrpc-one-id-for-two"
    ),
    pytest.param("json2", "<html>login</html>", id="json2-html"),
    pytest.param("json2", '{"ids": [1, 2]}', id="json2-not-a-list"),
    pytest.param("json2", '[1, "2"]', id="json2-not-ids"),
]


@pytest.mark.parametrize(("style", "text"), UNREADABLE)
async def test_an_unreadable_200_may_have_been_applied(
    style: Style, text: str, closing: list[OdooApi]
) -> None:
    odoo, _ = scripted(style, lambda request, body: httpx.Response(200, text=text), closing)
    with pytest.raises(OdooUnavailable) as raised:
        await odoo.create(MODEL, [V1, V2])
    assert type(raised.value) is OdooOutcomeUnknown
    assert raised.value.outcome_unknown is True and raised.value.http_status == 200


TRANSPORT = [
    (httpx.ConnectError, False),
    (httpx.ConnectTimeout, False),
    (httpx.PoolTimeout, False),
    (httpx.ReadTimeout, True),
    (httpx.WriteTimeout, True),
    (httpx.RemoteProtocolError, True),
    (httpx.ReadError, True),
]


@pytest.mark.parametrize("style", ["jsonrpc", "json2"])
@pytest.mark.parametrize(("failure", "maybe_applied"), TRANSPORT)
async def test_network_failures(
    style: Style,
    failure: type[httpx.TransportError],
    maybe_applied: bool,
    closing: list[OdooApi],
) -> None:
    odoo, wire = scripted(style, lambda request, body: failure("boom", request=request), closing)
    with pytest.raises(OdooUnavailable) as raised:
        await odoo.create(MODEL, [V1])
    assert type(raised.value) is (OdooOutcomeUnknown if maybe_applied else OdooUnavailable)
    assert raised.value.outcome_unknown is maybe_applied
    timed_out = issubclass(failure, httpx.TimeoutException)
    assert raised.value.http_status is None
    assert raised.value.code == ("timeout" if timed_out else "connection")
    assert isinstance(raised.value.__cause__, failure)
    assert len(wire.requests) == (2 if style == "jsonrpc" else 1)  # no retry of its own


async def test_a_network_failure_on_login_is_unavailable(closing: list[OdooApi]) -> None:
    wire = Wire(lambda request, body: httpx.ConnectError("refused", request=request))
    odoo = client("jsonrpc", wire)
    closing.append(odoo)
    with pytest.raises(OdooUnavailable) as raised:
        await odoo.search(MODEL, DOMAIN)
    assert type(raised.value) is OdooUnavailable and not raised.value.outcome_unknown


# --- metrics, spans, logs -----------------------------------------------------------


def sample(name: str, **labels: str) -> float:
    """The value of the Prometheus sample ``name`` with ``labels`` (0 when absent)."""
    text = generate_latest(REGISTRY).decode()
    total = 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total


async def test_requests_errors_and_refused_credentials_are_counted(
    closing: list[OdooApi],
) -> None:
    install_meter_provider(settings("jsonrpc"))
    names = [
        ("cauce_crm_odoo_requests_total", {"method": "authenticate", "outcome": "ok"}),
        ("cauce_crm_odoo_requests_total", {"method": "create", "outcome": "rejected"}),
        ("cauce_crm_odoo_requests_total", {"method": "search", "outcome": "ok"}),
        ("cauce_crm_odoo_requests_total", {"method": "write", "outcome": "unavailable"}),
        ("cauce_crm_odoo_requests_total", {"method": "read", "outcome": "credentials_rejected"}),
        ("cauce_provider_errors_total", {"provider": "odoo", "code": "ValidationError"}),
        ("cauce_provider_errors_total", {"provider": "odoo", "code": "429"}),
        ("cauce_provider_errors_total", {"provider": "odoo", "code": "AccessDenied"}),
        ("cauce_provider_credentials_failing_total", {"provider": "odoo"}),
    ]
    before = [sample(name, **labels) for name, labels in names]

    def op(request: httpx.Request, body: Any) -> httpx.Response:
        method = orm_method(body)
        if method == "create":
            return rpc_error(body, "odoo.exceptions.ValidationError", "missing manychat_id")
        if method == "write":
            return httpx.Response(429, headers={"Retry-After": "1"})
        if method == "read":
            return rpc_error(body, "odoo.exceptions.AccessDenied", "Access Denied")
        return rpc_result(body, [1])

    odoo, _ = scripted("jsonrpc", op, closing)
    assert await odoo.search(MODEL, DOMAIN) == [1]
    with pytest.raises(OdooRejected):
        await odoo.create(MODEL, [V2])
    with pytest.raises(OdooUnavailable):
        await odoo.write(MODEL, [1], V2)
    with pytest.raises(OdooCredentialsRejected):
        await odoo.read(MODEL, [1], ["id"])

    after = [sample(name, **labels) for name, labels in names]
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1, 1, 1, 1, 1, 1, 1]


async def test_calls_are_spans_with_the_rpc_method_and_no_values(
    tmp_path: Path, closing: list[OdooApi]
) -> None:
    span_file = tmp_path / "spans.jsonl"
    telemetry = setup_telemetry(
        ServiceSettings(environment="test", span_file=span_file, _env_file=None)
    )
    try:
        odoo, _ = scripted("jsonrpc", lambda request, body: rpc_result(body, [31, 32]), closing)
        assert await odoo.create(MODEL, [V1, V2]) == [31, 32]
        odoo2, _ = scripted(
            "json2",
            lambda r, b: json2_error(422, "odoo.exceptions.ValidationError", "bad"),
            closing,
        )
        with pytest.raises(OdooRejected):
            await odoo2.write(MODEL, [31], V1)
        assert telemetry.force_flush()
    finally:
        telemetry.shutdown()
    spans = [json.loads(line) for line in span_file.read_text().splitlines()]
    by_method = {
        s["attributes"].get("rpc.method"): s for s in spans if "rpc.method" in s["attributes"]
    }
    assert by_method["common.authenticate"]["attributes"]["rpc.system"] == "jsonrpc"
    create = by_method[f"{MODEL}.create"]
    assert create["attributes"]["rpc.system"] == "jsonrpc"
    [http_span] = [s for s in spans if s.get("parent_span_id") == create["span_id"]]
    assert http_span["kind"] == "CLIENT"
    write = by_method[f"{MODEL}.write"]
    assert write["attributes"]["rpc.system"] == "odoo_json2"
    assert write["attributes"]["error.type"] == "ValidationError"
    text = span_file.read_text()
    for secret in (PASSWORD, API_KEY, PHONE, EMAIL):
        assert secret not in text


async def test_no_secret_or_record_value_in_the_logs(
    caplog: pytest.LogCaptureFixture, closing: list[OdooApi]
) -> None:
    caplog.set_level(logging.DEBUG)

    def rpc_op(request: httpx.Request, body: Any) -> httpx.Response:
        if orm_method(body) == "create":
            return rpc_error(
                body, "odoo.exceptions.ValidationError", "The field manychat_id is required"
            )
        if orm_method(body) == "write":
            return rpc_error(body, "odoo.exceptions.AccessDenied", "Access Denied")
        return rpc_result(body, [{"id": 1, "phone": PHONE, "email": EMAIL}])

    odoo, _ = scripted("jsonrpc", rpc_op, closing)
    assert await odoo.search_read(MODEL, [["phone", "=", PHONE]], ["phone", "email"])
    with pytest.raises(OdooRejected):
        await odoo.create(MODEL, [V1])
    with pytest.raises(OdooCredentialsRejected):
        await odoo.write(MODEL, [1], V1)

    def json2_op(request: httpx.Request, body: Any) -> httpx.Response | Exception:
        if request.url.path.endswith("/create"):
            return httpx.ReadTimeout("timed out", request=request)
        return json2_error(401, "werkzeug.exceptions.Unauthorized", "Invalid apikey")

    odoo2, _ = scripted("json2", json2_op, closing)
    with pytest.raises(OdooUnavailable):
        await odoo2.create(MODEL, [V1])
    with pytest.raises(OdooCredentialsRejected):
        await odoo2.search_read(MODEL, [["email", "=", EMAIL]], ["email"])

    text = caplog.text
    assert "ValidationError" in text and "The field manychat_id is required" in text
    assert "ReadTimeout" in text and "Unauthorized" in text and MODEL in text
    for secret in (PASSWORD, API_KEY, PHONE, EMAIL):
        assert secret not in text
    refusals = [
        r for r in caplog.records if r.levelno == logging.ERROR and "credentials" in r.getMessage()
    ]
    assert len(refusals) == 2
