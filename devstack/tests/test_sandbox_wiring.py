"""The sandbox's settings and fakes' state live in one ``Sandbox`` wired into each app."""

import httpx

from cauce_devstack.sandbox.app import create_app
from cauce_devstack.sandbox.bootstrap import Sandbox
from cauce_devstack.sandbox.settings import SandboxSettings
from cauce_runtime import wiring_of


def test_each_app_wires_a_fresh_sandbox_with_its_settings() -> None:
    settings = SandboxSettings()
    first, second = wiring_of(create_app(settings), Sandbox), wiring_of(create_app(), Sandbox)
    assert first.settings is settings
    assert second.settings is not settings
    assert first.outbox is not second.outbox
    assert first.faults is not second.faults
    assert first.odoo is not second.odoo
    assert first.sci.gateway is first.gateway_client  # one client posts every webhook


async def test_route_handlers_reach_the_wired_sandbox() -> None:
    app = create_app()
    sandbox = wiring_of(app, Sandbox)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        armed = await client.post("/sandbox/faults", json={"kind": "5xx", "count": 2})
        assert armed.status_code == 201
        assert [fault.id for fault in sandbox.faults.list()] == [armed.json()["id"]]
        refused = await client.post("/ycloud/v2/whatsapp/messages", json={})
        assert refused.status_code == 401
    # The refusal recorder (middleware) records into the same outbox.
    [entry] = sandbox.outbox.list(include_refused=True)
    assert (entry.provider, entry.kind, entry.status) == ("ycloud", "refused", 401)
