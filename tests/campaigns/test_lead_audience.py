"""A campaign whose audience is a segment of the leads crm-sync holds: the notifier
reads them through crm-sync's reports API when the campaign starts (by an operator or
its schedule), fills the template's variables from lead fields and sends once to each.
crm-sync, the notifier and the sandbox (Graph and Odoo fakes) are real servers on real
NATS and PostgreSQL; the leads arrive as crm-sync's own events."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from cauce_contracts.crm import CampaignAssigned, ContactUpserted, LeadStateChanged
from cauce_contracts.envelope import Event
from cauce_contracts.identity import Permission
from cauce_contracts.registry import subject_of
from cauce_crm_sync.app import create_app as create_crm_sync
from cauce_crm_sync.settings import CrmSyncSettings
from cauce_devstack.minted_tokens import TokenMinter
from cauce_devstack.sandbox.app import create_app as create_sandbox
from cauce_devstack.sandbox.settings import (
    DEV_GRAPH_TOKEN,
    DEV_PHONE_NUMBER_ID,
    DEV_WABA_ID,
    SandboxSettings,
)
from cauce_devstack.servers import NatsServer, free_port
from cauce_devstack.servers.postgres import PostgresServer
from cauce_devstack.testing import eventually, fresh_database, service_test_values, serving
from cauce_notifier.app import create_app as create_notifier
from cauce_notifier.settings import DeclaredAccount, NotifierSettings
from cauce_runtime import Bus, ServiceSettings

TENANT = "acme"
MINTER = TokenMinter()
LEAD_EXPORT_TOKEN = "lead-export-token-for-audience-tests"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass
class AudienceStack:
    http: httpx.AsyncClient
    bus: Bus
    notifier_url: str
    crm_url: str
    sandbox_url: str

    async def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.http.request(
            method,
            f"{self.notifier_url}/api/v1{path}",
            headers=MINTER.headers(TENANT, Permission.CAMPAIGNS_MANAGE, Permission.CAMPAIGNS_READ),
            **kwargs,
        )

    async def leads(self, *leads: dict[str, Any]) -> None:
        """Each lead as crm-sync learns it (contact, assignment, state), then wait until
        its reports list them all."""
        for lead in leads:
            for event in lead_events(**lead):
                await self.bus.publish(event, subject_of(event))

        # a platform admin, naming each tenant in turn
        reader = MINTER.headers(TENANT, Permission.REPORTS_READ, platform_admin=True)

        async def listed() -> bool:
            ids: set[str] = set()
            for tenant in {lead.get("tenant", TENANT) for lead in leads}:
                found = await self.http.get(
                    f"{self.crm_url}/reports/contacts",
                    params={"limit": 1000, "tenant": tenant},
                    headers=reader,
                )
                ids |= {item["manychat_id"] for item in found.json()["items"]}
            return {lead["manychat_id"] for lead in leads} <= ids

        await eventually(listed, 20, "crm-sync to hold the leads")

    async def graph_sends(self) -> list[dict[str, Any]]:
        found = await self.http.get(
            f"{self.sandbox_url}/sandbox/outbox", params={"provider": "graph"}
        )
        return [
            e["payload"]
            for e in found.json()
            if e.get("kind", "message") == "message" and e["payload"].get("type") == "template"
        ]

    async def status(self, campaign_id: str) -> dict[str, Any]:
        answer = await self.api("GET", f"/campaigns/{campaign_id}")
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body


def lead_events(
    manychat_id: str,
    phone: str,
    first_name: str,
    state: str = "Interesado",
    campaign: str = "CAMP-1",
    advisor: str = "ana",
    tenant: str = TENANT,
) -> list[Event]:
    common: dict[str, Any] = {"tenant_id": tenant, "correlation_id": f"corr-{manychat_id}"}
    return [
        ContactUpserted(
            **common,
            manychat_id=manychat_id,
            nombre_lead=f"{first_name} Lead",
            datetime_actual=T0,
            ultimo_estado="Nuevo",
            first_name=first_name,
            last_name="Pérez",
            phone=phone,
            email=f"{manychat_id}@example.com",
        ),
        CampaignAssigned(
            **common,
            manychat_id=manychat_id,
            campaign_id=campaign,
            comercial_id=advisor,
            datetime_actual=T0 + timedelta(minutes=1),
            ultimo_estado="Asignado",
            tipo_asignacion="Automatica",
        ),
        LeadStateChanged(
            **common,
            manychat_id=manychat_id,
            new_state=state,
            changed_at=T0 + timedelta(minutes=2),
            source="conversation",
        ),
    ]


@contextlib.asynccontextmanager
async def audience_stack(
    nats_server: NatsServer,
    postgres_server: PostgresServer,
    tmp_path: Path,
    *,
    crm_sync_url: str | None = None,
) -> AsyncIterator[AudienceStack]:
    common = service_test_values(nats_server.url, tmp_path)
    sandbox = SandboxSettings(port=free_port(), access_log=False, status_callbacks_enabled=False)
    async with (
        fresh_database(postgres_server, "audience") as database_url,
        serving(create_sandbox(sandbox), sandbox.port) as sandbox_url,
        contextlib.AsyncExitStack() as services,
    ):
        crm = CrmSyncSettings(
            _env_file=None,  # type: ignore[call-arg]
            **common,
            port=free_port(),
            postgres_url=database_url,
            odoo_url=f"{sandbox_url}/odoo",
            reconcile_interval_s=0,
            lead_export_token=SecretStr(LEAD_EXPORT_TOKEN),
            identity_public_keys=MINTER.jwks,
        )
        crm_url = await services.enter_async_context(serving(create_crm_sync(crm), crm.port))
        notifier = NotifierSettings(
            **common,
            port=free_port(),
            postgres_url=database_url,
            contact_key_secret=SecretStr("contact-key-secret-for-audience-tests"),
            graph_base_url=f"{sandbox_url}/graph",
            accounts=[
                DeclaredAccount(
                    tenant_id=TENANT,
                    channel="whatsapp",  # type: ignore[arg-type]
                    account_id=DEV_PHONE_NUMBER_ID,
                    business_account_id=DEV_WABA_ID,
                    credentials={"access_token": SecretStr(DEV_GRAPH_TOKEN)},
                )
            ],
            identity_public_keys=MINTER.jwks,
            campaign_tick_s=0.05,
            template_sync_interval_s=0,
            crm_sync_url=crm_sync_url or crm_url,
            crm_sync_lead_export_token=SecretStr(LEAD_EXPORT_TOKEN),
        )
        notifier_url = await services.enter_async_context(
            serving(create_notifier(notifier), notifier.port)
        )
        bus = Bus(ServiceSettings(environment="test", nats_url=nats_server.url, _env_file=None))  # type: ignore[call-arg]
        await bus.start()
        try:
            async with httpx.AsyncClient(timeout=15) as http:
                stack = AudienceStack(http, bus, notifier_url, crm_url, sandbox_url)
                synced = await stack.api("POST", "/templates/sync")
                assert synced.status_code == 200, synced.text
                yield stack
        finally:
            await bus.stop()


@pytest.fixture
async def stack(
    nats_server: NatsServer, postgres_server: PostgresServer, tmp_path: Path
) -> AsyncIterator[AudienceStack]:
    async with audience_stack(nats_server, postgres_server, tmp_path) as running:
        yield running


async def new_campaign(stack: AudienceStack, **fields: Any) -> str:
    body = {"name": "Interesados", "template_name": "pago_confirmado", "template_language": "es"}
    created = await stack.api("POST", "/campaigns", json=body | fields)
    assert created.status_code == 201, created.text
    campaign_id: str = created.json()["id"]
    return campaign_id


SEGMENT = {
    "state": "Interesado",
    "manychat_campaign": "CAMP-1",
    "advisor": "ana",
    "variables": ["first_name", "nombre_lead"],
}


async def test_a_segment_of_leads_is_resolved_at_start_and_sent_once_each(
    stack: AudienceStack,
) -> None:
    await stack.leads(
        {"manychat_id": "l1", "phone": "+573001110001", "first_name": "Juan"},
        {"manychat_id": "l2", "phone": "+573001110002", "first_name": "Luisa", "advisor": "luis"},
        {"manychat_id": "l3", "phone": "+573001110003", "first_name": "Otro", "campaign": "C2"},
        {"manychat_id": "l4", "phone": "+573001110004", "first_name": "Pagó", "state": "pagado"},
        {"manychat_id": "l5", "phone": "+99912345678", "first_name": "Sin número"},
        {"manychat_id": "x1", "phone": "+573001110009", "first_name": "Ajeno", "tenant": "other"},
    )
    campaign_id = await new_campaign(stack)
    wrong = await stack.api(
        "PUT", f"/campaigns/{campaign_id}/audience", json=SEGMENT | {"variables": ["first_name"]}
    )
    assert wrong.status_code == 422 and "takes 2 variable" in wrong.json()["detail"]
    chosen = await stack.api("PUT", f"/campaigns/{campaign_id}/audience", json=SEGMENT)
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["audience"]["advisor"] == "ana" and chosen.json()["recipients"] == 0

    # resolved at start, not when chosen: a lead that arrives meanwhile is included
    await stack.leads({"manychat_id": "l6", "phone": "573001110006", "first_name": "Ana"})
    started = await stack.api("POST", f"/campaigns/{campaign_id}/start")
    assert started.status_code == 200, started.text
    assert (started.json()["recipients"], started.json()["rejected"]) == (2, 1)

    async def completed() -> bool:
        return (await stack.status(campaign_id))["status"] == "COMPLETED"

    await eventually(completed, 30, "the campaign to complete")
    sends = await stack.graph_sends()
    by_phone = {
        s["to"]: [p["text"] for p in s["template"]["components"][0]["parameters"]] for s in sends
    }
    assert by_phone == {
        "+573001110001": ["Juan", "Juan Lead"],
        "+573001110006": ["Ana", "Ana Lead"],
    }
    rejections = await stack.api("GET", f"/campaigns/{campaign_id}/rejections")
    assert "not a valid phone number" in rejections.text and "Sin número" in rejections.text


async def test_a_scheduled_segment_starts_by_itself_and_an_empty_one_is_cancelled(
    stack: AudienceStack,
) -> None:
    await stack.leads({"manychat_id": "s1", "phone": "+573001120001", "first_name": "Rosa"})
    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    scheduled = await new_campaign(stack, scheduled_at=soon)
    empty = await new_campaign(stack, scheduled_at=soon)
    for campaign_id, state in ((scheduled, "Interesado"), (empty, "nadie")):
        chosen = await stack.api(
            "PUT", f"/campaigns/{campaign_id}/audience", json=SEGMENT | {"state": state}
        )
        assert chosen.status_code == 200, chosen.text

    async def finished() -> bool:
        states = [(await stack.status(c))["status"] for c in (scheduled, empty)]
        return states == ["COMPLETED", "CANCELLED"]

    await eventually(finished, 30, "the scheduled campaigns to finish")
    assert [s["to"] for s in await stack.graph_sends()] == ["+573001120001"]
    cancelled = await stack.status(empty)
    assert cancelled["status_reason"] == "no lead matches the segment"
    assert cancelled["status_by"] == "schedule"


async def test_crm_sync_unreachable_leaves_the_campaign_unstarted(
    nats_server: NatsServer, postgres_server: PostgresServer, tmp_path: Path
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    async with audience_stack(nats_server, postgres_server, tmp_path, crm_sync_url=nowhere) as s:
        campaign_id = await new_campaign(s)
        chosen = await s.api("PUT", f"/campaigns/{campaign_id}/audience", json=SEGMENT)
        assert chosen.status_code == 200, chosen.text
        refused = await s.api("POST", f"/campaigns/{campaign_id}/start")
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert "crm-sync could not be reached" in refused.json()["detail"]
        assert (await s.status(campaign_id))["status"] == "DRAFT"
        # a CSV replaces the segment
        upload = await s.api(
            "POST",
            f"/campaigns/{campaign_id}/upload-recipients",
            files={"file": ("r.csv", b"phone,variable_1,variable_2\n3001230000,A,B\n")},
        )
        assert upload.status_code == 200, upload.text
        assert (await s.status(campaign_id))["audience"] is None
    assert uuid.UUID(campaign_id)
