"""The crm-sync benchmark: a burst of CRM events through Odoo's 1 request/s limit.

The stack runs as ``make run`` starts it (child processes, free ports, a temporary
home): crm-sync and the sandbox's Odoo fake both at their defaults, 1 request/s (the
fake refuses faster callers with 429, so going over would show). ``events`` events are
published to JetStream at once, the mix a ManyChat campaign produces: a new lead each
(``crm.contact.upserted``), then for half of them a campaign assignment and for the
other half a lead state change, all interleaved as they would arrive.

Both directions run: the Odoo fake's automation rule posts every record cauce creates
or writes back to the gateway (``/webhooks/odoo/{token}``, as ``make run`` wires it), and
crm-sync applies each of those echoes, which must cost no Odoo call. The events belong
to the dev company, whose token that rule carries.

Figures: events per second reaching Odoo (events / time from the first publish to the
last Odoo call that carried them), Odoo calls per event, the lag of the last event
(from its publish to the end of the Odoo call that carried it), and the webhooks Odoo
sent back meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import nats
from pydantic import SecretStr

from cauce_contracts.crm import CampaignAssigned, ContactUpserted, LeadStateChanged
from cauce_contracts.envelope import Event
from cauce_contracts.registry import subject_of
from cauce_contracts.subjects import CRM_ODOO_RECORD_CHANGED as WEBHOOKS
from cauce_devstack.minted_tokens import TokenMinter
from cauce_devstack.stack import DEV_TENANT
from cauce_devstack.testing import dev_admin_seed, free_ports, launched
from cauce_runtime import Bus, ServiceSettings

TARGET_EVENTS_PER_S = 100.0
#: The dev company: the Odoo fake's webhook token names it.
TENANT = DEV_TENANT
#: Signs the bench's access token; the stack's services pin its key.
MINTER = TokenMinter()
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class CrmSyncReport:
    events: int
    odoo_calls: int
    rate_limited: int
    max_in_any_1s: int
    first_publish_to_last_call_s: float
    last_event_lag_s: float
    failed: int
    #: ``crm.odoo.record_changed`` events Odoo's webhook produced meanwhile.
    webhooks: int = 0

    @property
    def events_per_s(self) -> float:
        span = self.first_publish_to_last_call_s
        return self.events / span if span > 0 else 0.0

    @property
    def calls_per_event(self) -> float:
        return self.odoo_calls / self.events if self.events else 0.0


def burst(events: int) -> list[Event]:
    """``events`` CRM events: leads first-seen, then assignments and state changes."""
    leads = events // 2
    out: list[Event] = []
    for i in range(leads):
        key = f"bench-{i:06d}"
        out.append(
            ContactUpserted(
                tenant_id=TENANT,
                correlation_id=key,
                manychat_id=key,
                nombre_lead=f"Lead {i}",
                datetime_actual=T0 + timedelta(seconds=i),
                ultimo_estado="Nuevo",
                email=f"lead{i}@example.com",
            )
        )
        if i % 2 == 0:
            out.append(
                CampaignAssigned(
                    tenant_id=TENANT,
                    correlation_id=key,
                    manychat_id=key,
                    campaign_id=f"CAMP-{i % 5}",
                    comercial_id=f"COM-{i % 13}",
                    datetime_actual=T0 + timedelta(seconds=i, milliseconds=500),
                    ultimo_estado="Asignado",
                    tipo_asignacion="Automatica",
                )
            )
        else:
            out.append(
                LeadStateChanged(
                    tenant_id=TENANT,
                    correlation_id=key,
                    manychat_id=key,
                    new_state="contactado",
                    changed_at=T0 + timedelta(seconds=i, milliseconds=500),
                    source="manychat",
                )
            )
    return out


async def _publish(nats_url: str, events: list[Event], workdir: Path) -> tuple[float, float]:
    settings = ServiceSettings(
        nats_url=nats_url,
        nats_nkey_seed=SecretStr(dev_admin_seed(workdir)),  # the stack's tools user
        service_name="bench-crm",
        span_file=workdir / "bench-spans.jsonl",
    )
    bus = Bus(settings)
    await bus.start()
    try:
        first = time.time()
        for start in range(0, len(events), 200):
            chunk = events[start : start + 200]
            await asyncio.gather(*(bus.publish(e, subject_of(e)) for e in chunk))
        return first, time.time()
    finally:
        await bus.stop()


async def _wait_settled(http: httpx.AsyncClient, crm_url: str, timeout_s: float) -> dict[str, Any]:
    headers = MINTER.headers(TENANT, platform_admin=True)  # the sync spans every company
    deadline = time.monotonic() + timeout_s
    quiet = 0
    while True:
        report: dict[str, Any] = (await http.get(f"{crm_url}/reports/sync", headers=headers)).json()
        quiet = quiet + 1 if report["pending"] == 0 and report["in_flight"] == 0 else 0
        if quiet >= 3 or time.monotonic() > deadline:
            return report
        await asyncio.sleep(0.5)


async def _measure(
    nats_url: str, crm_url: str, sandbox_url: str, events: int, workdir: Path
) -> CrmSyncReport:
    planned = burst(events)
    first, last_publish = await _publish(nats_url, planned, workdir)
    async with httpx.AsyncClient(timeout=30) as http:
        settled = await _wait_settled(http, crm_url, timeout_s=max(600.0, events / 5))
        calls = (
            await http.get(f"{sandbox_url}/sandbox/outbox", params={"provider": "odoo"})
        ).json()
        measured = (await http.get(f"{sandbox_url}/sandbox/odoo/metrics")).json()
    webhooks = await _webhook_events(nats_url, dev_admin_seed(workdir))
    last_call = max(datetime.fromisoformat(c["received_at"]).timestamp() for c in calls)
    return CrmSyncReport(
        events=len(planned),
        odoo_calls=len(calls),
        rate_limited=int(measured["rate_limited"]),
        max_in_any_1s=int(measured["max_in_any_1s_window"]),
        first_publish_to_last_call_s=last_call - first,
        last_event_lag_s=last_call - last_publish,
        failed=int(settled["failed"]),
        webhooks=webhooks,
    )


async def _webhook_events(nats_url: str, seed: str) -> int:
    """How many ``crm.odoo.record_changed`` events the CRM stream holds."""
    nc = await nats.connect(nats_url, nkeys_seed_str=seed)
    try:
        info = await nc.jetstream().stream_info("CRM", subjects_filter=f"{WEBHOOKS}.>")
        return sum((info.state.subjects or {}).values())
    finally:
        await nc.close()


def run(home: Path, events: int = 10_000) -> CrmSyncReport:
    ports = free_ports()
    pinned = {"CAUCE_IDENTITY_PUBLIC_KEYS": json.dumps(MINTER.jwks)}
    with launched(home, ports, env=pinned) as stack:
        stack.wait_ready(timeout=180)
        return asyncio.run(
            _measure(
                f"nats://127.0.0.1:{ports['nats']}",
                f"http://127.0.0.1:{ports['crm-sync']}",
                f"http://127.0.0.1:{ports['sandbox']}",
                events,
                home,
            )
        )


def render(report: CrmSyncReport) -> str:
    met = "met" if report.events_per_s >= TARGET_EVENTS_PER_S else "NOT met"
    return "\n".join(
        [
            f"crm-sync: {report.events} events through Odoo's 1 request/s limit",
            f"  events/s reaching Odoo      {report.events_per_s:8.1f}   "
            f"(target >= {TARGET_EVENTS_PER_S:g}: {met})",
            f"  Odoo calls per event        {report.calls_per_event:8.4f}   "
            f"({report.odoo_calls} calls)",
            f"  lag of the last event       {report.last_event_lag_s:8.1f} s",
            f"  busiest 1 s at Odoo         {report.max_in_any_1s:8d}   "
            f"(429s answered: {report.rate_limited}; dead letters: {report.failed})",
            f"  Odoo webhooks back to cauce {report.webhooks:8d}   "
            "(each applied; an echo of cauce's own write costs no call)",
        ]
    )
