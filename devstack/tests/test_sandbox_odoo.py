"""The Odoo fake: JSON-RPC and JSON-2 over the same records, validation and Odoo's
error shapes, credentials, domains and ordering, the rate limit, outages, faults, the
outbox (without secrets) and the sandbox-only record helpers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import pytest

from cauce_devstack.sandbox.app import create_app
from cauce_devstack.sandbox.odoo.records import OdooField
from cauce_devstack.sandbox.settings import (
    DEV_ODOO_API_KEY,
    DEV_ODOO_DB,
    DEV_ODOO_LOGIN,
    DEV_ODOO_PASSWORD,
    DEV_ODOO_UID,
    SandboxSettings,
)

CONTACT = "manychat.contact"
STATE = "manychat.state"
BEARER = {"Authorization": f"bearer {DEV_ODOO_API_KEY}"}
#: The arguments each method takes positionally in ``execute_kw`` (after the ids).
POSITIONAL = {
    "create": ("vals_list",),
    "write": ("vals",),
    "search": ("domain",),
    "search_read": ("domain",),
    "search_count": ("domain",),
    "load": ("fields", "data"),
}


def client_for(**settings: Any) -> httpx.AsyncClient:
    app = create_app(SandboxSettings(**({"odoo_rate_limit_enforced": False} | settings)))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox")


@pytest.fixture
async def sandbox() -> AsyncIterator[httpx.AsyncClient]:
    async with client_for() as client:
        yield client


def rpc_body(service: str, method: str, *args: Any, rpc_id: int = 1) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "method": "call",
        "params": {"service": service, "method": method, "args": list(args)},
        "id": rpc_id,
    }


async def rpc(client: httpx.AsyncClient, service: str, method: str, *args: Any) -> dict[str, Any]:
    response = await client.post("/odoo/jsonrpc", json=rpc_body(service, method, *args))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["jsonrpc"] == "2.0" and body["id"] == 1
    return body


async def execute(
    client: httpx.AsyncClient,
    model: str,
    method: str,
    args: list[Any],
    kwargs: dict[str, Any] | None = None,
    *,
    password: str = DEV_ODOO_PASSWORD,
    uid: int = DEV_ODOO_UID,
) -> dict[str, Any]:
    return await rpc(
        client,
        "object",
        "execute_kw",
        DEV_ODOO_DB,
        uid,
        password,
        model,
        method,
        args,
        kwargs or {},
    )


def result(body: dict[str, Any]) -> Any:
    assert "error" not in body, body
    return body["result"]


@dataclass
class Answer:
    status: int
    value: Any = None
    error: dict[str, Any] | None = None
    """``{name, message, ...}`` (JSON-RPC's ``error.data``, JSON-2's body)."""


class Api(Protocol):
    name: str

    async def call(self, model: str, method: str, ids: Any = None, **params: Any) -> Answer: ...


@dataclass
class JsonRpc:
    client: httpx.AsyncClient
    name: str = "jsonrpc"

    async def call(self, model: str, method: str, ids: Any = None, **params: Any) -> Answer:
        args: list[Any] = [] if ids is None else [ids]
        for name in POSITIONAL.get(method, ()):
            if name in params:
                args.append(params.pop(name))
        body = await execute(self.client, model, method, args, params)
        if "error" in body:
            assert body["error"]["code"] == 200 and body["error"]["message"] == "Odoo Server Error"
            return Answer(200, error=body["error"]["data"])
        return Answer(200, value=body["result"])


@dataclass
class Json2:
    client: httpx.AsyncClient
    name: str = "json2"

    async def call(self, model: str, method: str, ids: Any = None, **params: Any) -> Answer:
        if ids is not None:
            params["ids"] = ids
        response = await self.client.post(
            f"/odoo/json/2/{model}/{method}",
            json=params,
            headers=BEARER | {"X-Odoo-Database": DEV_ODOO_DB},
        )
        if response.status_code == 200:
            return Answer(200, value=response.json())
        return Answer(response.status_code, error=response.json())


@pytest.fixture(params=["jsonrpc", "json2"])
def api(request: pytest.FixtureRequest, sandbox: httpx.AsyncClient) -> Api:
    return JsonRpc(sandbox) if request.param == "jsonrpc" else Json2(sandbox)


async def records(client: httpx.AsyncClient, model: str = CONTACT) -> list[dict[str, Any]]:
    response = await client.get(f"/sandbox/odoo/records/{model}")
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


async def outbox(client: httpx.AsyncClient, include_refused: bool = False) -> list[dict[str, Any]]:
    params = {"provider": "odoo", "include_refused": str(include_refused).lower()}
    entries: list[dict[str, Any]] = (await client.get("/sandbox/outbox", params=params)).json()
    return entries


# --- common, credentials ------------------------------------------------------------------


async def test_version_login_and_authenticate(sandbox: httpx.AsyncClient) -> None:
    version = result(await rpc(sandbox, "common", "version"))
    assert version["server_version"] == "17.0"
    assert version["server_version_info"] == [17, 0, 0, "final", 0, ""]
    web = await sandbox.get("/odoo/web/version")
    assert web.json() == {"version": "17.0", "version_info": [17, 0, 0, "final", 0, ""]}

    login = (DEV_ODOO_DB, DEV_ODOO_LOGIN)
    assert result(await rpc(sandbox, "common", "login", *login, DEV_ODOO_PASSWORD)) == 2
    assert result(await rpc(sandbox, "common", "authenticate", *login, DEV_ODOO_API_KEY, {})) == 2
    assert result(await rpc(sandbox, "common", "authenticate", *login, "wrong", {})) is False
    assert (
        result(await rpc(sandbox, "common", "login", DEV_ODOO_DB, "nobody", DEV_ODOO_PASSWORD))
        is False
    )

    wrong_db = await rpc(sandbox, "common", "authenticate", "other", DEV_ODOO_LOGIN, "x", {})
    assert wrong_db["error"]["data"]["name"] == "psycopg2.OperationalError"
    assert 'database "other" does not exist' in wrong_db["error"]["data"]["message"]


async def test_version_reports_the_configured_odoo() -> None:
    async with client_for(odoo_version="19.0") as client:
        assert result(await rpc(client, "common", "version"))["server_serie"] == "19.0"
        assert (await client.get("/odoo/web/version")).json()["version_info"][0] == 19


@pytest.mark.parametrize(("password", "uid"), [("wrong", DEV_ODOO_UID), (DEV_ODOO_PASSWORD, 7)])
async def test_execute_kw_with_bad_credentials_is_access_denied(
    sandbox: httpx.AsyncClient, password: str, uid: int
) -> None:
    body = await execute(sandbox, CONTACT, "search_count", [[]], password=password, uid=uid)
    assert body["error"]["code"] == 200
    assert body["error"]["data"]["name"] == "odoo.exceptions.AccessDenied"
    assert body["error"]["data"]["message"] == "Access Denied"


async def test_execute_kw_on_another_database_fails(sandbox: httpx.AsyncClient) -> None:
    body = await rpc(
        sandbox, "object", "execute_kw", "other", 2, DEV_ODOO_PASSWORD, CONTACT, "search", [[]]
    )
    assert body["error"]["data"]["name"] == "psycopg2.OperationalError"


async def test_execute_kw_takes_the_password_or_an_api_key(sandbox: httpx.AsyncClient) -> None:
    for password in (DEV_ODOO_PASSWORD, DEV_ODOO_API_KEY):
        assert result(await execute(sandbox, CONTACT, "search_count", [[]], password=password)) == 0


async def test_json2_needs_a_valid_api_key_and_the_right_database(
    sandbox: httpx.AsyncClient,
) -> None:
    url = f"/odoo/json/2/{CONTACT}/search_count"
    for headers in (
        {},
        {"Authorization": "bearer not-a-key"},
        {"Authorization": f"bearer {DEV_ODOO_PASSWORD}"},  # a password is no API key
        {"Authorization": f"Basic {DEV_ODOO_API_KEY}"},
    ):
        response = await sandbox.post(url, json={"domain": []}, headers=headers)
        assert response.status_code == 401
        assert response.json()["name"] == "werkzeug.exceptions.Unauthorized"
        assert response.json()["message"] == "Invalid apikey"
    other = await sandbox.post(
        url, json={"domain": []}, headers=BEARER | {"X-Odoo-Database": "other"}
    )
    assert other.status_code == 404
    right = await sandbox.post(
        url, json={"domain": []}, headers=BEARER | {"X-Odoo-Database": DEV_ODOO_DB}
    )
    assert (right.status_code, right.json()) == (200, 0)
    no_header = await sandbox.post(url, json={"domain": []}, headers=BEARER)
    assert (no_header.status_code, no_header.json()) == (200, 0)


# --- the ORM methods, both styles ---------------------------------------------------------


async def test_crud_round_trip(api: Api, sandbox: httpx.AsyncClient) -> None:
    created = await api.call(
        CONTACT,
        "create",
        vals_list=[
            {"manychat_id": "mc-1", "first_name": "Ana", "assigned_at": "2025-01-02 03:04:05"},
            {"manychat_id": "mc-2", "first_name": "Luis"},
            {"manychat_id": "mc-3"},
        ],
    )
    assert created.value == [1, 2, 3]

    single = await api.call(CONTACT, "create", vals_list={"manychat_id": "mc-4"})
    # JSON-RPC answers a dict with its id, JSON-2 always with a list of ids.
    assert single.value == (4 if api.name == "jsonrpc" else [4])

    assert (await api.call(CONTACT, "write", [2, 3], vals={"ultimo_estado": "nuevo"})).value is True
    read = await api.call(CONTACT, "read", [3, 2], fields=["ultimo_estado", "first_name"])
    assert read.value == [
        {"id": 3, "ultimo_estado": "nuevo", "first_name": False},
        {"id": 2, "ultimo_estado": "nuevo", "first_name": "Luis"},
    ]

    everything = await api.call(CONTACT, "search_read", domain=[["id", "=", 1]])
    [ana] = everything.value
    assert ana["first_name"] == "Ana" and ana["assigned_at"] == "2025-01-02 03:04:05"
    assert ana["phone"] is False and ana["datetime_actual"] is False
    assert len(ana["create_date"]) == 19 and ana["create_date"][10] == " "
    assert set(ana) == {"id", "create_date", "write_date"} | set(
        SandboxSettings().odoo_models[CONTACT]
    )

    some = await api.call(CONTACT, "search_read", domain=[], fields=["manychat_id"], limit=2)
    assert some.value == [{"id": 1, "manychat_id": "mc-1"}, {"id": 2, "manychat_id": "mc-2"}]
    assert (await api.call(CONTACT, "search", domain=[["ultimo_estado", "=", "nuevo"]])).value == [
        2,
        3,
    ]
    assert (await api.call(CONTACT, "search_count", domain=[])).value == 4

    assert (await api.call(CONTACT, "unlink", [1, 4])).value is True
    assert [row["id"] for row in await records(sandbox)] == [2, 3]
    for method, params in (("read", {}), ("write", {"vals": {"phone": "1"}}), ("unlink", {})):
        missing = await api.call(CONTACT, method, [1], **params)
        assert missing.error is not None, method
        assert missing.error["name"] == "odoo.exceptions.MissingError"
        assert missing.error["message"].startswith("Record does not exist or has been deleted.")
        assert missing.status == (200 if api.name == "jsonrpc" else 404)


async def test_a_batch_create_is_all_or_nothing(api: Api, sandbox: httpx.AsyncClient) -> None:
    answer = await api.call(
        CONTACT,
        "create",
        vals_list=[{"manychat_id": "ok-1"}, {"first_name": "no manychat_id"}, {"manychat_id": "x"}],
    )
    assert answer.error is not None
    assert answer.error["name"] == "odoo.exceptions.ValidationError"
    assert await records(sandbox) == []
    # Nothing was half-created: the next id is still 1.
    assert (await api.call(CONTACT, "create", vals_list=[{"manychat_id": "a"}])).value == [1]


async def test_a_write_is_all_or_nothing(api: Api, sandbox: httpx.AsyncClient) -> None:
    await api.call(CONTACT, "create", vals_list=[{"manychat_id": "a"}])
    answer = await api.call(CONTACT, "write", [1, 99], vals={"phone": "300"})
    assert answer.error is not None and answer.error["name"] == "odoo.exceptions.MissingError"
    assert (await records(sandbox))[0]["phone"] is False


@pytest.mark.parametrize(
    ("model", "vals", "name", "message"),
    [
        (
            CONTACT,
            {"manychat_id": "a", "x_bogus": 1},
            "builtins.ValueError",
            "Invalid field 'x_bogus' on model 'manychat.contact'",
        ),
        (
            CONTACT,
            {"first_name": "Ana"},
            "odoo.exceptions.ValidationError",
            "a mandatory field is not set",
        ),
        (
            CONTACT,
            {"manychat_id": "a", "phone": 3001234567},
            "odoo.exceptions.ValidationError",
            "Wrong value for manychat.contact.phone",
        ),
        (
            STATE,
            {"manychat_id": "a", "state": "nuevo", "source": "telepathy"},
            "odoo.exceptions.ValidationError",
            "Wrong value for manychat.state.source: 'telepathy'",
        ),
        (
            CONTACT,
            {"manychat_id": "a", "assigned_at": "2025-01-02T03:04:05Z"},
            "builtins.ValueError",
            "time data '2025-01-02T03:04:05Z' does not match format '%Y-%m-%d %H:%M:%S'",
        ),
        (
            CONTACT,
            {"manychat_id": "a", "assigned_at": "2025-01-02"},
            "builtins.ValueError",
            "does not match format '%Y-%m-%d %H:%M:%S'",
        ),
        (
            "res.partner",
            {"name": "a"},
            "odoo.exceptions.AccessError",
            "You are not allowed to access 'res.partner' records.",
        ),
    ],
)
async def test_invalid_vals_are_refused_with_odoos_exception(
    api: Api, model: str, vals: dict[str, Any], name: str, message: str
) -> None:
    answer = await api.call(model, "create", vals_list=[vals])
    assert answer.error is not None
    assert answer.error["name"] == name
    assert message in answer.error["message"]
    assert answer.error["arguments"] == [answer.error["message"]]
    if api.name == "json2":
        assert answer.status == (403 if name.endswith("AccessError") else 422)


async def test_a_required_field_cannot_be_emptied(api: Api) -> None:
    await api.call(CONTACT, "create", vals_list=[{"manychat_id": "a"}])
    answer = await api.call(CONTACT, "write", [1], vals={"manychat_id": False})
    assert answer.error is not None and answer.error["name"] == "odoo.exceptions.ValidationError"


async def test_wrong_arguments_fail_as_odoo_would(api: Api) -> None:
    unknown_kwarg = await api.call(CONTACT, "search", domain=[], bogus=1)
    assert unknown_kwarg.error is not None and unknown_kwarg.error["name"] == "builtins.TypeError"
    unknown_method = await api.call(CONTACT, "fly", domain=[])
    assert unknown_method.error is not None
    assert "The method 'fly' does not exist" in unknown_method.error["message"]
    assert unknown_method.error["name"] == "builtins.AttributeError"
    assert unknown_method.status == (200 if api.name == "jsonrpc" else 404)
    private = await api.call(CONTACT, "_private", domain=[])
    assert private.error is not None and private.error["name"] == "odoo.exceptions.AccessError"


# --- load (Odoo's import) -------------------------------------------------------------------


async def contacts(api: Api, count: int) -> None:
    vals_list = [{"manychat_id": f"mc-{i}"} for i in range(1, count + 1)]
    assert (await api.call(CONTACT, "create", vals_list=vals_list)).value == list(
        range(1, count + 1)
    )


async def test_load_updates_several_records_each_with_its_own_values(
    api: Api, sandbox: httpx.AsyncClient
) -> None:
    await contacts(api, 3)
    for record_id in (1, 2, 3):
        staged = {"phone": "300", "write_date": "2020-01-01 00:00:00"}
        await sandbox.patch(f"/sandbox/odoo/records/{CONTACT}/{record_id}", json=staged)
    created = {row["id"]: row["create_date"] for row in await records(sandbox)}
    answer = await api.call(
        CONTACT,
        "load",
        fields=[".id", "ultimo_estado", "assigned_at", "phone"],
        data=[["3", "ganado", "2025-01-02 03:04:05", ""], [1, "nuevo", "", "301"]],
    )
    assert answer.status == 200
    assert answer.value == {"ids": [3, 1], "messages": [], "nextrow": 0}

    rows = {row["id"]: row for row in await records(sandbox)}
    loaded = {i: (r["ultimo_estado"], r["assigned_at"], r["phone"]) for i, r in rows.items()}
    assert loaded == {
        1: ("nuevo", False, "301"),
        2: (False, False, "300"),
        3: ("ganado", "2025-01-02 03:04:05", False),
    }
    assert rows[1]["manychat_id"] == "mc-1"  # columns not loaded are kept
    assert rows[1]["write_date"] > "2021" and rows[3]["write_date"] > "2021"
    assert rows[2]["write_date"] == "2020-01-01 00:00:00"
    assert {i: r["create_date"] for i, r in rows.items()} == created  # updated, not created


async def test_load_creates_the_rows_without_a_database_id(
    api: Api, sandbox: httpx.AsyncClient
) -> None:
    await contacts(api, 2)
    answer = await api.call(
        CONTACT,
        "load",
        fields=["manychat_id", ".id", "first_name"],
        data=[["mc-new", "", "Eva"], ["mc-2b", "2", "Luis"], ["mc-other", None, ""]],
    )
    assert answer.value == {"ids": [3, 2, 4], "messages": [], "nextrow": 0}
    rows = {row["id"]: row for row in await records(sandbox)}
    assert {i: (r["manychat_id"], r["first_name"]) for i, r in rows.items()} == {
        1: ("mc-1", False),
        2: ("mc-2b", "Luis"),
        3: ("mc-new", "Eva"),
        4: ("mc-other", False),
    }
    assert rows[3]["create_date"] == rows[3]["write_date"] == rows[4]["create_date"]
    # Without a ``.id`` column every row is created.
    plain = await api.call(CONTACT, "load", fields=["manychat_id"], data=[["a"], ["b"]])
    assert plain.value["ids"] == [5, 6]


async def test_load_is_all_or_nothing(api: Api, sandbox: httpx.AsyncClient) -> None:
    await contacts(api, 2)
    before = await records(sandbox)
    answer = await api.call(
        CONTACT,
        "load",
        fields=[".id", "manychat_id", "ultimo_estado"],
        data=[["1", "mc-1", "ganado"], ["2", "", "perdido"], ["", "mc-3", "nuevo"]],
    )
    # Odoo answers bad rows in the result (HTTP 200), not as an error.
    assert (answer.status, answer.error) == (200, None)
    assert answer.value == {
        "ids": False,
        "messages": [
            {
                "type": "error",
                "message": "Missing required value for the field 'manychat_id' (manychat_id)",
                "record": 1,
                "rows": {"from": 1, "to": 1},
                "field": "manychat_id",
            }
        ],
        "nextrow": 0,
    }
    assert await records(sandbox) == before
    # Nothing was half-created: the next id is still 3.
    assert (await api.call(CONTACT, "create", vals_list=[{"manychat_id": "c"}])).value == [3]


@pytest.mark.parametrize(
    ("model", "fields", "data", "record", "field", "message"),
    [
        (
            CONTACT,
            [".id", "x_bogus"],
            [["1", "a"]],
            0,
            "x_bogus",
            "Unknown field 'x_bogus' on model 'manychat.contact'",
        ),
        (
            CONTACT,
            [".id", "phone"],
            [["1", "300"], ["99", "301"]],
            1,
            ".id",
            "No matching record found for database id '99' in field 'Database ID'",
        ),
        (
            CONTACT,
            [".id", "phone"],
            [["abc", "300"]],
            0,
            ".id",
            "No matching record found for database id 'abc' in field 'Database ID'",
        ),
        (
            CONTACT,
            [".id", "assigned_at"],
            [["1", "2025-01-02 03:04:05"], ["1", "2025-01-02T03:04:05Z"]],
            1,
            "assigned_at",
            "'2025-01-02T03:04:05Z' does not seem to be a valid datetime for field 'assigned_at'",
        ),
        (
            CONTACT,
            ["manychat_id", "datetime_actual"],
            [["a", "02/01/2025 03:04"]],
            0,
            "datetime_actual",
            "'02/01/2025 03:04' does not seem to be a valid datetime for field 'datetime_actual'",
        ),
        (
            STATE,
            ["manychat_id", "state", "source"],
            [["a", "nuevo", "odoo"], ["a", "nuevo", "telepathy"]],
            1,
            "source",
            "Value 'telepathy' not found in selection field 'source'",
        ),
        (
            STATE,
            ["manychat_id", "previous_state"],
            [["a", "nuevo"]],
            0,
            "state",
            "Missing required value for the field 'state' (state)",
        ),
    ],
)
async def test_load_reports_a_bad_row_in_its_result(
    api: Api,
    sandbox: httpx.AsyncClient,
    model: str,
    fields: list[str],
    data: list[list[Any]],
    record: int,
    field: str,
    message: str,
) -> None:
    await contacts(api, 1)
    before = await records(sandbox, model)
    answer = await api.call(model, "load", fields=fields, data=data)
    assert answer.status == 200 and answer.value["ids"] is False
    [problem] = answer.value["messages"]
    assert (problem["type"], problem["record"], problem["field"]) == ("error", record, field)
    assert problem["message"] == message
    assert await records(sandbox, model) == before


async def test_load_converts_import_format_values() -> None:
    models = {
        "x_lead": {
            "x_name": OdooField(required=True),
            "x_score": OdooField(type="integer"),
            "x_ratio": OdooField(type="float"),
            "x_ok": OdooField(type="boolean"),
            "x_day": OdooField(type="date"),
            "x_at": OdooField(type="datetime"),
        }
    }
    fields = ["x_name", "x_score", "x_ratio", "x_ok", "x_day", "x_at"]
    async with client_for(odoo_models=models) as client:
        data = [
            ["a", "5", "1.5", "true", "2025-02-03", "2025-02-03 04:05:06"],
            ["b", 7, 2, True, "", None],  # JSON values, for leniency
            ["c", "", "", "0", "", ""],
            ["d", "-3", "1e3", "maybe", None, None],
        ]
        loaded = result(await execute(client, "x_lead", "load", [fields, data]))
        assert loaded["ids"] == [1, 2, 3, 4]
        # An unknown boolean is Odoo's warning (taken as true), not an error.
        [warning] = loaded["messages"]
        assert (warning["type"], warning["record"], warning["field"]) == ("warning", 3, "x_ok")
        rows = result(await execute(client, "x_lead", "read", [[1, 2, 3, 4], fields]))
        assert [[row[f] for f in fields] for row in rows] == [
            ["a", 5, 1.5, True, "2025-02-03", "2025-02-03 04:05:06"],
            ["b", 7, 2.0, True, False, False],
            ["c", 0, 0.0, False, False, False],
            ["d", -3, 1000.0, True, False, False],
        ]

        bad = [
            ["e", "5.5", "x", "1", "03/02/2025", ""],
            ["f", "99999999999", "nan", "1", "", "2025-02-03 25:00:00"],
        ]
        refused = result(await execute(client, "x_lead", "load", [fields, bad]))
        assert refused["ids"] is False
        assert [(m["record"], m["field"]) for m in refused["messages"]] == [
            (0, "x_score"),
            (0, "x_ratio"),
            (0, "x_day"),
            (1, "x_score"),
            (1, "x_ratio"),
            (1, "x_at"),
        ]
        assert "'5.5' does not seem to be an integer" in refused["messages"][0]["message"]
        assert "'x' does not seem to be a number" in refused["messages"][1]["message"]
        assert "out of range" in refused["messages"][3]["message"]
        assert len(result(await execute(client, "x_lead", "search", [[]]))) == 4


async def test_load_with_malformed_arguments_fails_as_odoo_would(api: Api) -> None:
    short_row = await api.call(CONTACT, "load", fields=["manychat_id", "phone"], data=[["a"]])
    assert short_row.error is not None and short_row.error["name"] == "builtins.ValueError"
    no_data = await api.call(CONTACT, "load", fields=["manychat_id"])
    assert no_data.error is not None and no_data.error["name"] == "builtins.TypeError"
    not_rows = await api.call(CONTACT, "load", fields=["manychat_id"], data="a")
    assert not_rows.error is not None and not_rows.error["name"] == "builtins.TypeError"
    if api.name == "json2":
        assert {short_row.status, no_data.status, not_rows.status} == {422}


async def test_load_is_recorded_and_goes_through_the_gate(sandbox: httpx.AsyncClient) -> None:
    await execute(sandbox, CONTACT, "create", [[{"manychat_id": "a"}, {"manychat_id": "b"}]])
    rows = [["2", "300"], ["1", "301"]]
    assert result(await execute(sandbox, CONTACT, "load", [[".id", "phone"], rows]))["ids"] == [
        2,
        1,
    ]
    url = f"/odoo/json/2/{CONTACT}/load"
    bad = await sandbox.post(url, json={"fields": ["x_bogus"], "data": [["1"]]}, headers=BEARER)
    assert bad.status_code == 200 and bad.json()["ids"] is False
    await arm(sandbox, kind="5xx", status=503)
    down = await sandbox.post(url, json={"fields": [".id"], "data": [["1"]]}, headers=BEARER)
    assert down.status_code == 503

    accepted = await outbox(sandbox)
    assert [(e["type"], e["message_id"]) for e in accepted] == [
        ("manychat.contact.create", "1,2"),
        ("manychat.contact.load", "2,1"),
    ]
    assert accepted[1]["payload"]["params"]["args"][2:] == [
        "<redacted>",
        CONTACT,
        "load",
        [[".id", "phone"], rows],
        {},
    ]
    refused = [e for e in await outbox(sandbox, include_refused=True) if e["kind"] == "refused"]
    # A load whose result is ``ids: false`` changed nothing: a refusal, though HTTP 200.
    assert [(e["type"], e["status"]) for e in refused] == [
        ("manychat.contact.load", 200),
        ("manychat.contact.load", 503),
    ]
    assert refused[0]["payload"] == {"fields": ["x_bogus"], "data": [["1"]]}
    assert refused[0]["error"]["messages"][0]["field"] == "x_bogus"


# --- domains, order, limit, offset ----------------------------------------------------------


@pytest.fixture
async def people(sandbox: httpx.AsyncClient) -> httpx.AsyncClient:
    rows = [
        {"manychat_id": "1", "first_name": "Ana", "email": "ana@ACME.com", "ultimo_estado": "b"},
        {"manychat_id": "2", "first_name": "Luis", "phone": "300", "ultimo_estado": "a"},
        {"manychat_id": "3", "first_name": "Eva", "email": "eva@other.org"},
        {
            "manychat_id": "4",
            "first_name": "Juan",
            "phone": "300",
            "ultimo_estado": "c",
            "assigned_at": "2025-03-01 12:00:00",
        },
    ]
    assert result(await execute(sandbox, CONTACT, "create", [rows])) == [1, 2, 3, 4]
    return sandbox


@pytest.mark.parametrize(
    ("domain", "ids"),
    [
        ([], [1, 2, 3, 4]),
        ([["phone", "=", "300"]], [2, 4]),
        ([["phone", "=", False]], [1, 3]),
        ([["phone", "!=", False]], [2, 4]),
        ([["ultimo_estado", "!=", "a"]], [1, 3, 4]),  # != matches unset values too
        ([["ultimo_estado", "in", ["a", "c"]]], [2, 4]),
        ([["ultimo_estado", "not in", ["a", "c"]]], [1, 3]),
        ([["ultimo_estado", "in", ["a", False]]], [2, 3]),
        ([["email", "ilike", "acme"]], [1]),
        ([["email", "like", "acme"]], []),
        ([["email", "=ilike", "%.org"]], [3]),
        ([["email", "not ilike", "acme"]], [2, 3, 4]),
        ([["ultimo_estado", ">", "a"]], [1, 4]),
        ([["ultimo_estado", "<=", "b"]], [1, 2]),
        ([["id", ">=", 3]], [3, 4]),
        ([["id", "in", [4, 1]]], [1, 4]),
        ([["assigned_at", ">=", "2025-03-01 12:00:00"]], [4]),
        ([["assigned_at", "<", "2025-03-01"]], []),
        ([["create_date", ">", "2000-01-01 00:00:00"], ["write_date", "!=", False]], [1, 2, 3, 4]),
        (["|", ["phone", "=", "300"], ["email", "ilike", "acme"]], [1, 2, 4]),
        (["&", ["phone", "=", "300"], ["ultimo_estado", "=", "c"]], [4]),
        ([["phone", "=", "300"], ["ultimo_estado", "=", "c"]], [4]),  # implicit AND
        (["!", ["phone", "=", "300"]], [1, 3]),
        (
            [
                "|",
                "&",
                ["phone", "=", "300"],
                ["ultimo_estado", "=", "a"],
                ["first_name", "=", "Eva"],
            ],
            [2, 3],
        ),
        (["&", "|", ["id", "=", 1], ["id", "=", 2], "!", ["id", "=", 1]], [2]),
        ([[1, "=", 1]], [1, 2, 3, 4]),
        ([[0, "=", 1]], []),
    ],
)
async def test_domains(people: httpx.AsyncClient, domain: list[Any], ids: list[int]) -> None:
    assert result(await execute(people, CONTACT, "search", [domain])) == ids
    json2 = await people.post(
        f"/odoo/json/2/{CONTACT}/search_count", json={"domain": domain}, headers=BEARER
    )
    assert json2.json() == len(ids)


@pytest.mark.parametrize(
    ("domain", "message"),
    [
        ([["x_bogus", "=", 1]], "Invalid field manychat.contact.x_bogus in leaf"),
        ([["phone", "~", "1"]], "Invalid leaf"),
        (["|", ["phone", "=", "1"]], "Invalid domain"),
        ([["assigned_at", ">", "yesterday"]], "does not match format"),
        ("phone = 1", "Invalid domain"),
        ([["id", "in", [[1]]]], "needs a list of values"),
    ],
)
async def test_malformed_domains_are_value_errors(
    people: httpx.AsyncClient, domain: Any, message: str
) -> None:
    body = await execute(people, CONTACT, "search", [domain])
    assert body["error"]["data"]["name"] == "builtins.ValueError"
    assert message in body["error"]["data"]["message"]


@pytest.mark.parametrize(
    ("kwargs", "ids"),
    [
        ({}, [1, 2, 3, 4]),
        ({"order": "id desc"}, [4, 3, 2, 1]),
        ({"order": "ultimo_estado"}, [2, 1, 4, 3]),  # unset last ascending
        ({"order": "ultimo_estado desc"}, [3, 4, 1, 2]),  # and first descending
        ({"order": "phone desc, id"}, [1, 3, 2, 4]),
        ({"order": "phone, id desc"}, [4, 2, 3, 1]),
        ({"order": "write_date desc, id"}, [1, 2, 3, 4]),  # one batch: same write_date
        ({"limit": 2}, [1, 2]),
        ({"limit": 2, "offset": 1}, [2, 3]),
        ({"offset": 3}, [4]),
        ({"order": "id desc", "limit": 1, "offset": 1}, [3]),
    ],
)
async def test_order_limit_offset(
    people: httpx.AsyncClient, kwargs: dict[str, Any], ids: list[int]
) -> None:
    assert result(await execute(people, CONTACT, "search", [[]], kwargs)) == ids
    rows = await execute(people, CONTACT, "search_read", [[]], {"fields": ["id"]} | kwargs)
    assert [row["id"] for row in result(rows)] == ids


@pytest.mark.parametrize("order", ["bogus desc", "id sideways", "id; drop table"])
async def test_an_invalid_order_is_a_value_error(people: httpx.AsyncClient, order: str) -> None:
    body = await execute(people, CONTACT, "search", [[]], {"order": order})
    assert body["error"]["data"]["name"] == "builtins.ValueError"


async def test_configured_models_and_field_types() -> None:
    models = {
        "x_lead": {
            "x_name": OdooField(required=True),
            "x_score": OdooField(type="integer"),
            "x_ratio": OdooField(type="float"),
            "x_ok": OdooField(type="boolean"),
            "x_day": OdooField(type="date"),
            "x_notes": OdooField(type="text"),
        }
    }
    async with client_for(odoo_models=models) as client:
        created = await execute(
            client,
            "x_lead",
            "create",
            [[{"x_name": "a", "x_score": 5, "x_ok": True, "x_day": "2025-02-03"}, {"x_name": "b"}]],
        )
        assert result(created) == [1, 2]
        rows = result(await execute(client, "x_lead", "read", [[2]]))
        assert rows[0] | {"create_date": None, "write_date": None} == {
            "id": 2,
            "x_name": "b",
            "x_score": 0,
            "x_ratio": 0.0,
            "x_ok": False,
            "x_day": False,
            "x_notes": False,
            "create_date": None,
            "write_date": None,
        }
        found = await execute(client, "x_lead", "search", [[["x_ok", "=", True]]])
        assert result(found) == [1]
        by_score = await execute(client, "x_lead", "search", [[]], {"order": "x_score desc"})
        assert result(by_score) == [2, 1]  # unset sorts first descending
        bad = await execute(client, "x_lead", "create", [{"x_name": "c", "x_score": "five"}])
        assert bad["error"]["data"]["name"] == "odoo.exceptions.ValidationError"
        not_a_model = await execute(client, CONTACT, "search", [[]])
        assert not_a_model["error"]["data"]["name"] == "odoo.exceptions.AccessError"


# --- rate limit, outages, faults -----------------------------------------------------------


async def test_the_rate_limit_answers_429_and_refusals_are_not_accepted() -> None:
    async with client_for(odoo_rate_limit_enforced=True, odoo_rate_limit_per_second=5) as client:

        async def one(i: int) -> httpx.Response:
            if i % 2:
                return await client.post("/odoo/jsonrpc", json=rpc_body("common", "version"))
            return await client.post(
                f"/odoo/json/2/{CONTACT}/search_count", json={"domain": []}, headers=BEARER
            )

        responses = await asyncio.gather(*(one(i) for i in range(20)))
        limited = [r for r in responses if r.status_code == 429]
        accepted = [r for r in responses if r.status_code == 200]
        assert limited and len(limited) + len(accepted) == 20
        assert all(r.headers["retry-after"] == "1" for r in limited)
        assert all(r.headers["content-type"].startswith("text/plain") for r in limited)

        assert len(await outbox(client)) == len(accepted)
        refused = [e for e in await outbox(client, include_refused=True) if e["kind"] == "refused"]
        assert len(refused) == len(limited) and {e["status"] for e in refused} == {429}

        metrics = (await client.get("/sandbox/odoo/metrics")).json()
        assert metrics["accepted"] == len(accepted)
        assert metrics["rate_limited"] == len(limited)
        assert metrics["max_in_any_1s_window"] <= 5
        # The sandbox helpers are not rate limited.
        assert (await client.get(f"/sandbox/odoo/records/{CONTACT}")).status_code == 200


async def test_an_outage_answers_a_proxy_page_until_it_ends(sandbox: httpx.AsyncClient) -> None:
    started = await sandbox.post("/sandbox/odoo/outage", json={"seconds": 60, "status": 503})
    assert started.json()["active"] is True
    assert (await sandbox.get("/sandbox/odoo/outage")).json()["status"] == 503

    down = [
        await sandbox.post("/odoo/jsonrpc", json=rpc_body("common", "version")),
        await sandbox.post(f"/odoo/json/2/{CONTACT}/search", json={"domain": []}, headers=BEARER),
        await sandbox.get("/odoo/web/version"),
    ]
    assert {r.status_code for r in down} == {503}
    assert all(
        "<html>" in r.text and r.headers["content-type"].startswith("text/html") for r in down
    )
    assert await outbox(sandbox) == []
    assert [e["status"] for e in await outbox(sandbox, include_refused=True)] == [503, 503, 503]

    assert (await sandbox.delete("/sandbox/odoo/outage")).json() == {"ended": True}
    assert (await sandbox.get("/sandbox/odoo/outage")).json()["active"] is False
    assert result(await rpc(sandbox, "common", "version"))["server_version"] == "17.0"


async def test_an_outage_ends_by_itself(sandbox: httpx.AsyncClient) -> None:
    await sandbox.post("/sandbox/odoo/outage", json={"seconds": 0.05, "status": 502})
    await asyncio.sleep(0.1)
    assert (await sandbox.get("/odoo/web/version")).status_code == 200
    assert (await sandbox.get("/sandbox/odoo/outage")).json()["active"] is False


async def arm(client: httpx.AsyncClient, **fault: Any) -> None:
    response = await client.post("/sandbox/faults", json={"target": "odoo"} | fault)
    assert response.status_code == 201, response.text


async def test_5xx_and_429_faults_hit_business_calls_only(sandbox: httpx.AsyncClient) -> None:
    await arm(sandbox, kind="5xx", status=502)
    await arm(sandbox, kind="429", retry_after=7)
    # Logins and the version page do not consume faults.
    assert result(await rpc(sandbox, "common", "version"))
    login = rpc_body("common", "authenticate", DEV_ODOO_DB, DEV_ODOO_LOGIN, DEV_ODOO_PASSWORD, {})
    assert (await sandbox.post("/odoo/jsonrpc", json=login)).json()["result"] == 2

    count = rpc_body(
        "object", "execute_kw", DEV_ODOO_DB, 2, DEV_ODOO_PASSWORD, CONTACT, "search_count", [[]]
    )
    bad_gateway = await sandbox.post("/odoo/jsonrpc", json=count)
    assert bad_gateway.status_code == 502 and "Bad Gateway" in bad_gateway.text
    throttled = await sandbox.post(
        f"/odoo/json/2/{CONTACT}/search_count", json={"domain": []}, headers=BEARER
    )
    assert throttled.status_code == 429 and throttled.headers["retry-after"] == "7"
    assert (await sandbox.post("/odoo/jsonrpc", json=count)).json()["result"] == 0


async def test_token_expired_fault_is_odoos_session_expired(sandbox: httpx.AsyncClient) -> None:
    await arm(sandbox, kind="token_expired", count=2)
    body = await execute(sandbox, CONTACT, "search_count", [[]])
    assert body["error"]["code"] == 100
    assert body["error"]["message"] == "Odoo Session Expired"
    assert body["error"]["data"]["name"] == "odoo.http.SessionExpiredException"
    json2 = await sandbox.post(
        f"/odoo/json/2/{CONTACT}/search_count", json={"domain": []}, headers=BEARER
    )
    assert json2.status_code == 401
    assert json2.json()["name"] == "werkzeug.exceptions.Unauthorized"
    assert result(await execute(sandbox, CONTACT, "search_count", [[]])) == 0


async def test_latency_and_drop_faults() -> None:
    async with client_for(drop_hold_s=0.01) as client:
        await arm(client, kind="latency", latency_ms=10)
        assert result(await execute(client, CONTACT, "search_count", [[]])) == 0
        await arm(client, kind="drop")
        dropped = await client.post(
            f"/odoo/json/2/{CONTACT}/search_count", json={"domain": []}, headers=BEARER
        )
        assert dropped.status_code == 504 and dropped.content == b""
        assert [e["type"] for e in await outbox(client)] == ["manychat.contact.search_count"]


# --- outbox ---------------------------------------------------------------------------------


async def test_the_outbox_records_every_call_without_secrets(sandbox: httpx.AsyncClient) -> None:
    await rpc(sandbox, "common", "authenticate", DEV_ODOO_DB, DEV_ODOO_LOGIN, DEV_ODOO_PASSWORD, {})
    await rpc(sandbox, "common", "authenticate", DEV_ODOO_DB, DEV_ODOO_LOGIN, "Wr0ng-Secret", {})
    await execute(sandbox, CONTACT, "create", [[{"manychat_id": "a"}, {"manychat_id": "b"}]])
    await execute(sandbox, CONTACT, "create", [{"manychat_id": "c"}], password=DEV_ODOO_API_KEY)
    await execute(sandbox, CONTACT, "create", [{"x_bogus": 1}])
    await execute(sandbox, CONTACT, "search", [[]], password="Wr0ng-Secret")
    await sandbox.post(
        f"/odoo/json/2/{CONTACT}/search", json={"domain": [["id", ">", 1]]}, headers=BEARER
    )
    await sandbox.post(f"/odoo/json/2/{CONTACT}/search", json={"domain": []})  # no key

    accepted = await outbox(sandbox)
    assert [(e["kind"], e["type"], e["message_id"]) for e in accepted] == [
        ("rpc", "common.authenticate", ""),
        ("rpc", "manychat.contact.create", "1,2"),
        ("rpc", "manychat.contact.create", "3"),
        ("rpc", "manychat.contact.search", ""),
    ]
    assert all(e["provider"] == "odoo" and e["phone_number_id"] == DEV_ODOO_DB for e in accepted)
    assert accepted[1]["payload"]["params"]["args"][5] == [
        [{"manychat_id": "a"}, {"manychat_id": "b"}]
    ]
    assert accepted[3]["payload"] == {"domain": [["id", ">", 1]]}

    everything = await outbox(sandbox, include_refused=True)
    refused = [e for e in everything if e["kind"] == "refused"]
    assert [(e["type"], e["status"]) for e in refused] == [
        ("common.authenticate", 200),  # a failed login answers result false
        ("manychat.contact.create", 200),  # a JSON-RPC error envelope
        ("manychat.contact.search", 200),
        ("manychat.contact.search", 401),
    ]
    assert refused[0]["error"]["result"] is False
    assert refused[1]["error"]["error"]["data"]["name"] == "builtins.ValueError"
    assert refused[2]["error"]["error"]["data"]["name"] == "odoo.exceptions.AccessDenied"
    assert refused[3]["error"]["message"] == "Invalid apikey"

    dumped = json.dumps(everything)
    for secret in (DEV_ODOO_PASSWORD, DEV_ODOO_API_KEY, "Wr0ng-Secret"):
        assert secret not in dumped


async def test_a_body_that_is_not_json_is_refused_and_not_kept(sandbox: httpx.AsyncClient) -> None:
    response = await sandbox.post("/odoo/jsonrpc", content=f"{{{DEV_ODOO_PASSWORD}")
    assert response.status_code == 400
    [entry] = await outbox(sandbox, include_refused=True)
    assert entry["payload"] == {"invalid_json": True, "bytes": len(DEV_ODOO_PASSWORD) + 1}


# --- sandbox-only helpers ------------------------------------------------------------------


async def test_patch_changes_fields_and_write_date_behind_our_back(
    sandbox: httpx.AsyncClient,
) -> None:
    result(await execute(sandbox, CONTACT, "create", [{"manychat_id": "a"}]))
    url = f"/sandbox/odoo/records/{CONTACT}/1"
    staged = await sandbox.patch(
        url, json={"ultimo_estado": "ganado", "write_date": "2020-01-01 00:00:00"}
    )
    assert staged.status_code == 200
    assert staged.json()["ultimo_estado"] == "ganado"
    assert staged.json()["write_date"] == "2020-01-01 00:00:00"
    old = [["write_date", "<", "2021-01-01 00:00:00"]]
    assert result(await execute(sandbox, CONTACT, "search", [old])) == [1]

    # A write through the API moves write_date to now...
    result(await execute(sandbox, CONTACT, "write", [[1], {"phone": "300"}]))
    assert result(await execute(sandbox, CONTACT, "search", [old])) == []
    # ...and so does a PATCH without one.
    await sandbox.patch(url, json={"write_date": "2020-01-01 00:00:00"})
    assert result(await execute(sandbox, CONTACT, "search", [old])) == [1]
    patched = await sandbox.patch(url, json={"ultimo_estado": "perdido"})
    assert patched.json()["write_date"] > "2021"
    [row] = await records(sandbox)
    assert (row["ultimo_estado"], row["phone"]) == ("perdido", "300")

    bogus = await sandbox.patch(url, json={"x_bogus": 1})
    assert (bogus.status_code, bogus.json()["name"]) == (422, "builtins.ValueError")
    missing = await sandbox.patch(f"/sandbox/odoo/records/{CONTACT}/9", json={"phone": "1"})
    assert missing.status_code == 404
    assert (await sandbox.get("/sandbox/odoo/records/res.partner")).status_code == 404
    # The helpers are not provider calls: only the five API calls are in the outbox.
    assert len(await outbox(sandbox, include_refused=True)) == 5


async def test_wipe_deletes_every_record_and_ids_keep_counting(sandbox: httpx.AsyncClient) -> None:
    await execute(sandbox, CONTACT, "create", [[{"manychat_id": "a"}, {"manychat_id": "b"}]])
    await execute(sandbox, STATE, "create", [{"manychat_id": "a", "state": "nuevo"}])
    assert (await sandbox.delete("/sandbox/odoo/records")).json() == {"deleted": 3}
    assert await records(sandbox) == [] and await records(sandbox, STATE) == []
    assert result(await execute(sandbox, CONTACT, "create", [{"manychat_id": "c"}])) == 3
