"""A burst of 2,000 CRM events reaches Odoo in full while Odoo's 1 request/s limit is
never exceeded: coalescing and batch creates carry many events per call."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from .conftest import assignment, at, contact, running_crm, running_sandbox, state_change

LEADS = 1000


def most_in_any_second(times: list[datetime]) -> int:
    """The most requests that started within any window of one second."""
    ordered = sorted(times)
    most, start = 0, 0
    for end, moment in enumerate(ordered):
        while (moment - ordered[start]).total_seconds() >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


async def test_a_burst_of_2000_events_lands_in_odoo_within_its_rate_limit(
    nats_url: str, database_url: str, tmp_path: Path
) -> None:
    async with (
        running_sandbox(odoo_rate_limit_per_second=1.0) as sandbox_url,
        running_crm(
            nats_url, database_url, sandbox_url, tmp_path, odoo_rate_limit_per_s=1.0
        ) as crm,
    ):
        events = [contact(f"lead-{i:04d}", datetime_actual=at(i)) for i in range(LEADS)]
        events += [
            assignment(f"lead-{i:04d}", comercial_id=f"COM-{i % 7}", datetime_actual=at(5000 + i))
            for i in range(0, LEADS, 2)
        ]
        events += [
            state_change(f"lead-{i:04d}", "contactado", changed_at=at(9000 + i))
            for i in range(1, LEADS, 2)
        ]
        assert len(events) == 2000
        await crm.publish(*events)
        report = await crm.settled(timeout=240)

        assert report["failed"] == 0
        leads = {r["manychat_id"]: r for r in await crm.odoo_records("manychat.contact")}
        assert len(leads) == LEADS
        assert leads["lead-0000"]["comercial_id"] == "COM-0"
        assert leads["lead-0000"]["ultimo_estado"] == "Asignado"
        assert leads["lead-0001"]["ultimo_estado"] == "contactado"
        states = await crm.odoo_records("manychat.state")
        assert len(states) == LEADS // 2

        requests = await crm.odoo_requests(include_refused=True)
        assert not [r for r in requests if r["status"] == 429], "Odoo had to refuse us"
        times = [datetime.fromisoformat(r["received_at"]) for r in requests]
        assert most_in_any_second(times) <= 1
        measured = (await crm.http.get(f"{sandbox_url}/sandbox/odoo/metrics")).json()
        assert measured["max_in_any_1s_window"] <= 1
        assert measured["rate_limited"] == 0
        # Far fewer calls than events: that is the point of coalescing and batching.
        assert len(requests) < len(events) / 20
