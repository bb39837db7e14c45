"""crm-sync's Odoo client against the sandbox's Odoo fake over real HTTP, in both API
styles: a full ORM round trip, Odoo's refusals by name, bad credentials, an expired
session, the fake's rate limit and a proxy outage.

The client's exact wire shapes and every classification rule are pinned by
``test_odoo_client.py``; this file checks that the client and the fake, both written
from the same wire contract, agree.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any, Literal

import httpx
import pytest
from pydantic import SecretStr

from cauce_crm_sync.odoo import (
    OdooApi,
    OdooCredentialsRejected,
    OdooOutcomeUnknown,
    OdooRejected,
    OdooUnavailable,
    connect_odoo,
)
from cauce_crm_sync.settings import CrmSyncSettings
from cauce_devstack.sandbox.app import create_app as create_sandbox
from cauce_devstack.sandbox.settings import SandboxSettings
from cauce_devstack.servers import free_port
from cauce_devstack.testing import serving

Style = Literal["jsonrpc", "json2"]
STYLES = pytest.mark.parametrize("style", ["jsonrpc", "json2"])
CONTACT = "manychat.contact"
STATE = "manychat.state"
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


@contextlib.asynccontextmanager
async def running_sandbox(**overrides: Any) -> AsyncIterator[str]:
    """The sandbox served on a free port; the Odoo rate limit is off unless asked for."""
    values: dict[str, Any] = {
        "port": free_port(),
        "gateway_url": "http://127.0.0.1:9",
        "odoo_rate_limit_enforced": False,
    }
    values.update(overrides)
    settings = SandboxSettings(**values)
    async with serving(create_sandbox(settings), settings.port) as url:
        yield url


@contextlib.asynccontextmanager
async def odoo_client(sandbox_url: str, style: Style, **overrides: Any) -> AsyncIterator[OdooApi]:
    """crm-sync's client for the fake, with crm-sync's default (dev) credentials."""
    settings = CrmSyncSettings(
        _env_file=None,
        environment="test",
        odoo_api=style,
        odoo_url=f"{sandbox_url}/odoo",
        odoo_timeout_s=5.0,
        **overrides,
    )
    odoo = connect_odoo(settings)
    try:
        yield odoo
    finally:
        await odoo.aclose()


@pytest.fixture
async def sandbox_url() -> AsyncIterator[str]:
    async with running_sandbox() as url:
        yield url


async def sandbox_post(sandbox_url: str, path: str, body: dict[str, Any]) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{sandbox_url}{path}", json=body)
    assert response.status_code < 300, response.text


@STYLES
async def test_round_trip(style: Style, sandbox_url: str) -> None:
    async with odoo_client(sandbox_url, style) as odoo:
        version = await odoo.version()
        assert version.get("server_version", version.get("version")) == "17.0"
        ids = await odoo.create(
            CONTACT,
            [
                {"manychat_id": "mc-1", "nombre_lead": "Ana", "phone": "+573001234567"},
                {"manychat_id": "mc-2", "datetime_actual": "2025-06-05 12:41:36"},
            ],
        )
        assert len(ids) == 2 and ids[0] < ids[1]
        (single,) = await odoo.create(CONTACT, [{"manychat_id": "mc-3"}])
        assert single > ids[1]

        domain = [["manychat_id", "in", ["mc-1", "mc-2"]]]
        found = await odoo.search_read(CONTACT, domain, ["manychat_id", "nombre_lead"], order="id")
        assert found == [
            {"id": ids[0], "manychat_id": "mc-1", "nombre_lead": "Ana"},
            {"id": ids[1], "manychat_id": "mc-2", "nombre_lead": False},
        ]
        assert await odoo.search(CONTACT, domain, limit=1, order="id desc") == [ids[1]]
        paged = await odoo.search_read(CONTACT, [], ["manychat_id"], limit=2, offset=1, order="id")
        assert [r["manychat_id"] for r in paged] == ["mc-2", "mc-3"]

        await odoo.write(CONTACT, ids, {"ultimo_estado": "Asignado", "campaign_id": "CAMP-1"})
        read = await odoo.read(CONTACT, ids, ["ultimo_estado", "campaign_id", "write_date"])
        assert [(r["id"], r["ultimo_estado"], r["campaign_id"]) for r in read] == [
            (ids[0], "Asignado", "CAMP-1"),
            (ids[1], "Asignado", "CAMP-1"),
        ]
        assert all(DATETIME.match(r["write_date"]) for r in read)

        await odoo.unlink(CONTACT, ids)
        assert await odoo.search(CONTACT, domain) == []
        with pytest.raises(OdooRejected) as gone:
            await odoo.read(CONTACT, ids, ["manychat_id"])
        assert gone.value.short_name == "MissingError"
        with pytest.raises(OdooRejected) as gone_write:
            await odoo.write(CONTACT, [ids[0]], {"ultimo_estado": "Perdido"})
        assert gone_write.value.short_name == "MissingError"


REFUSALS = [
    # (model, vals, Odoo's exception name)
    (CONTACT, {"nombre_lead": "no manychat_id"}, "odoo.exceptions.ValidationError"),
    (CONTACT, {"manychat_id": "mc-9", "x_bogus": 1}, "builtins.ValueError"),
    (
        CONTACT,
        {"manychat_id": "mc-9", "datetime_actual": "2025-06-05T12:41:36Z"},
        "builtins.ValueError",
    ),
    (
        STATE,
        {"manychat_id": "mc-9", "state": "won", "source": "fax"},
        "odoo.exceptions.ValidationError",
    ),
    ("x_not.a_model", {"name": "n"}, "odoo.exceptions.AccessError"),
]


@STYLES
@pytest.mark.parametrize(("model", "vals", "name"), REFUSALS)
async def test_odoo_refusals_are_rejected_by_name(
    style: Style, model: str, vals: dict[str, Any], name: str, sandbox_url: str
) -> None:
    async with odoo_client(sandbox_url, style) as odoo:
        with pytest.raises(OdooRejected) as raised:
            await odoo.create(
                model, [{"manychat_id": "mc-ok"}, vals] if model == CONTACT else [vals]
            )
        assert raised.value.code == name
        assert raised.value.message and not raised.value.outcome_unknown
        # A batch create is one transaction: the good record was not created either.
        if model == CONTACT:
            assert await odoo.search(CONTACT, [["manychat_id", "=", "mc-ok"]]) == []


@STYLES
async def test_bad_credentials(style: Style, sandbox_url: str) -> None:
    wrong = {"odoo_password": SecretStr("wrong-password"), "odoo_api_key": SecretStr("wrong-key")}
    async with odoo_client(sandbox_url, style, **wrong) as odoo:
        with pytest.raises(OdooCredentialsRejected) as raised:
            await odoo.create(CONTACT, [{"manychat_id": "mc-1"}])
    assert "wrong" not in str(raised.value)
    if style == "json2":
        assert raised.value.http_status == 401
    async with odoo_client(sandbox_url, style, odoo_login="someone-else") as odoo:
        if style == "jsonrpc":
            with pytest.raises(OdooCredentialsRejected):
                await odoo.search(CONTACT, [])
        else:  # JSON-2 has no login: the key alone identifies the user
            assert await odoo.search(CONTACT, []) == []


async def test_jsonrpc_expired_session_logs_in_again(sandbox_url: str) -> None:
    async with odoo_client(sandbox_url, "jsonrpc") as odoo:
        assert await odoo.search(CONTACT, []) == []
        await sandbox_post(
            sandbox_url, "/sandbox/faults", {"target": "odoo", "kind": "token_expired"}
        )
        assert await odoo.create(CONTACT, [{"manychat_id": "mc-1"}])
        await sandbox_post(
            sandbox_url, "/sandbox/faults", {"target": "odoo", "kind": "token_expired", "count": 2}
        )
        with pytest.raises(OdooUnavailable) as raised:
            await odoo.search(CONTACT, [])
        assert raised.value.short_name == "SessionExpiredException"
    async with httpx.AsyncClient() as http:
        entries = (await http.get(f"{sandbox_url}/sandbox/outbox")).json()
    logins = [
        e for e in entries if e.get("provider") == "odoo" and e.get("type") == "common.authenticate"
    ]
    assert len(logins) == 3  # the first, one after each expiry
    created = [
        e for e in entries if e.get("type") == f"{CONTACT}.create" and e.get("kind") == "rpc"
    ]
    assert len(created) == 1  # repeated once, created once


@STYLES
async def test_the_fakes_rate_limit_is_unavailable_with_retry_after(style: Style) -> None:
    async with (
        running_sandbox(odoo_rate_limit_enforced=True, odoo_rate_limit_per_second=1.0) as url,
        odoo_client(url, style) as odoo,
    ):
        await odoo.version()
        with pytest.raises(OdooUnavailable) as raised:
            await odoo.search(CONTACT, [])
    assert raised.value.http_status == 429
    assert raised.value.retry_after is not None and raised.value.retry_after > 0
    assert not raised.value.outcome_unknown


@STYLES
@pytest.mark.parametrize(("status", "maybe_applied"), [(502, True), (503, False)])
async def test_a_proxy_outage_is_unavailable(
    style: Style, status: int, maybe_applied: bool, sandbox_url: str
) -> None:
    await sandbox_post(sandbox_url, "/sandbox/odoo/outage", {"seconds": 60, "status": status})
    async with odoo_client(sandbox_url, style) as odoo:
        with pytest.raises(OdooUnavailable) as raised:
            await odoo.create(CONTACT, [{"manychat_id": "mc-1"}])
    assert type(raised.value) is (OdooOutcomeUnknown if maybe_applied else OdooUnavailable)
    assert (raised.value.http_status, raised.value.outcome_unknown) == (status, maybe_applied)
