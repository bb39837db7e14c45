"""Another service verifies identity's tokens on its own: it is given no identity URL,
only the bus, and learns the signing key and every revocation through JetStream KV."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends

from cauce_contracts.identity import Permission
from cauce_devstack.testing import eventually, service_test_values, serving
from cauce_runtime import Bus, ServiceSettings, create_service_app
from cauce_runtime.identity import Caller, TokenVerifier, require

from .conftest import IdentityServer


def other_service(nats_url: str, tmp_path: Path) -> object:
    settings = ServiceSettings(
        _env_file=None, service_name="inbox", **service_test_values(nats_url, tmp_path)
    )
    router = APIRouter()

    @router.get("/chats")
    async def chats(
        caller: Annotated[Caller, Depends(require(Permission.CHATS_READ))],
    ) -> dict[str, str]:
        return {"company": caller.company_id}

    return create_service_app(
        settings,
        bus=Bus(settings, streams=()),
        verifier=TokenVerifier.for_service(settings),
        routers=[router],
    )


async def test_a_login_works_in_another_service_until_logout(
    identity: IdentityServer, nats_url: str, tmp_path: Path
) -> None:
    agent = await identity.log_in(await identity.add_user("globex", "agent"))
    async with (
        serving(other_service(nats_url, tmp_path)) as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        headers = {"authorization": f"Bearer {agent['access_token']}"}
        answer = await client.get("/chats", headers=headers)
        assert (answer.status_code, answer.json()) == (200, {"company": "globex"})

        marketer = await identity.log_in(await identity.add_user("globex", "supervisor"))
        async with identity.client(await identity.token_of("globex")) as admin:
            no_chats = await admin.post(
                "/api/roles", json={"name": "reports only", "permissions": ["reports.read"]}
            )
            await admin.put(
                f"/api/users/{marketer['user']['id']}", json={"role_id": no_chats.json()["id"]}
            )
        reports_only = await identity.log_in(marketer["user"]["email"])
        forbidden = await client.get(
            "/chats", headers={"authorization": f"Bearer {reports_only['access_token']}"}
        )
        assert forbidden.status_code == 403

        async with identity.client(agent["access_token"]) as own:
            assert (await own.post("/api/auth/logout")).status_code == 204

        async def refused() -> bool:
            return (await client.get("/chats", headers=headers)).status_code == 401

        await eventually(refused, timeout=1, what="the other service to refuse the token")
