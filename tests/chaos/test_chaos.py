"""``make chaos`` in its short form: the whole stack (every service a process of its own,
real NATS, PostgreSQL and the MongoDB stand-in, the provider sandbox) under customers
paying through the bot and ManyChat leads, while a service on each side of the bus is
killed -9, nats-server is killed and restarted, PostgreSQL is frozen and Graph fails.
Every webhook answered 200 must have its effects, once."""

from __future__ import annotations

from pathlib import Path

from cauce_devstack.chaos.run import BOUNDED_PLAN, chaos
from cauce_devstack.testing import free_ports


def test_nothing_is_lost_or_doubled_under_faults(tmp_path: Path) -> None:
    report = chaos(tmp_path / ".cauce", BOUNDED_PLAN, ports=free_ports())
    print(report.table())

    assert [fault.name for fault in report.injected] == [f.name for f in BOUNDED_PLAN.faults]
    assert all(fault.ok for fault in report.injected), report.table()
    assert report.doors.webhooks.accepted >= BOUNDED_PLAN.customers * 4 + BOUNDED_PLAN.leads * 4
    assert report.settled, report.table()
    assert report.duplicates == 0, report.table()
    assert report.losses == 0, report.table()
    assert report.reasonless_dead_letters == 0, report.table()
