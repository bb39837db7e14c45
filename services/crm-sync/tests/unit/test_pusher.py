"""The pusher on an in-memory sync state and Odoo: creates, writes, loads, adopts what
an uncertain create left in Odoo, splits a rejected batch down to the culprit, tells
Odoo down (nothing counted) from a failed call (an attempt counted, then a dead
letter). The same against PostgreSQL and the sandbox's Odoo: ``tests/test_sync_to_odoo.py``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from cauce_crm_sync.mapping import OdooMapping
from cauce_crm_sync.odoo import (
    OdooCredentialsRejected,
    OdooError,
    OdooOutcomeUnknown,
    OdooUnavailable,
    Vals,
)
from cauce_crm_sync.store.sync_state import SyncRecord
from cauce_crm_sync.sync.plan import plan_sync, source_key
from cauce_crm_sync.sync.pusher import OdooDown, Pusher, RetryPolicy
from cauce_runtime import Backoff

from .fakes import FakeOdoo, FakeSyncState

CONTACTS = "manychat.contact"
MAPPING = OdooMapping.from_settings(CONTACTS, "manychat.state", {}, {})
POLICY = RetryPolicy(max_attempts=3, backoff=Backoff.of(1, 5, 30, jitter=0), uncertain_s=10.0)
BATCH_SIZE = 3
BAD_EMAIL = "not-an-email"


@dataclass
class World:
    state: FakeSyncState = field(default_factory=FakeSyncState)
    odoo: FakeOdoo = field(
        default_factory=lambda: FakeOdoo(rejects=lambda vals: vals.get("email") == BAD_EMAIL)
    )
    #: Each lead's current data in PostgreSQL (cauce names), by :func:`source_key`.
    sources: dict[Any, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.pusher = Pusher(self.odoo, self.state, MAPPING, POLICY, batch_size=BATCH_SIZE)

    def lead(
        self,
        key: str,
        *,
        odoo_id: int | None = None,
        synced: Vals | None = None,
        attempts: int = 0,
        maybe_created: bool = False,
        **data: Any,
    ) -> SyncRecord:
        """A claimed lead record whose data is ``data`` (a name by default)."""
        record = self.state.add(
            "contact",
            key,
            odoo_id=odoo_id,
            synced_vals=synced,
            attempts=attempts,
            maybe_created=maybe_created,
        )
        self.sources[source_key(record)] = {
            "tenant_id": "acme",
            "manychat_id": key,
            "nombre_lead": "Ana",
            **data,
        }
        return record

    def synced_lead(self, key: str, **data: Any) -> SyncRecord:
        """A lead in Odoo as last sent (``data`` is what changed in PostgreSQL since)."""
        vals = {"manychat_id": key, "nombre_lead": "Ana"}
        odoo_id = self.odoo.add(CONTACTS, vals)
        return self.lead(key, odoo_id=odoo_id, synced=vals, **data)

    async def push(self, *records: SyncRecord) -> None:
        await self.pusher.push(plan_sync(list(records), self.sources, MAPPING))

    def in_odoo(self) -> dict[str, Vals]:
        return {vals["manychat_id"]: vals for vals in self.odoo.records[CONTACTS].values()}

    def statuses(self, *records: SyncRecord) -> list[str]:
        return [self.state.row(record).status for record in records]


@pytest.fixture
def world() -> World:
    return World()


# --- the calls ---------------------------------------------------------------------------------


async def test_new_records_are_created_in_batches_and_marked_synced(world: World) -> None:
    records = [world.lead(f"mc-{i}", email=f"mc{i}@example.com") for i in range(5)]

    await world.push(*records)

    assert world.odoo.calls == [("create", CONTACTS, 3), ("create", CONTACTS, 2)]
    for record in records:
        row = world.state.row(record)
        assert (row.status, row.attempts, row.leased) == ("synced", 0, False)
        assert world.odoo.records[CONTACTS][row.odoo_id or 0] == row.synced_vals
        assert row.synced_vals == {
            "manychat_id": record.record_key,
            "nombre_lead": "Ana",
            "email": f"mc{record.record_key[3:]}@example.com",
        }


async def test_records_with_the_same_change_share_one_write(world: World) -> None:
    records = [world.synced_lead(f"mc-{i}", ultimo_estado="Asignado") for i in range(2)]

    await world.push(*records)

    assert world.odoo.calls == [("write", CONTACTS, 2)]
    assert [vals["ultimo_estado"] for vals in world.in_odoo().values()] == ["Asignado"] * 2
    assert world.statuses(*records) == ["synced", "synced"]
    assert world.state.row(records[0]).synced_vals == {
        "manychat_id": "mc-0",
        "nombre_lead": "Ana",
        "ultimo_estado": "Asignado",
    }


async def test_records_with_changes_of_their_own_are_updated_in_one_load(world: World) -> None:
    records = [world.synced_lead(f"mc-{i}", phone=f"+5730000000{i}") for i in range(3)]

    await world.push(*records)

    assert world.odoo.calls == [("load", CONTACTS, 3)]
    assert {key: vals["phone"] for key, vals in world.in_odoo().items()} == {
        f"mc-{i}": f"+5730000000{i}" for i in range(3)
    }
    assert world.statuses(*records) == ["synced"] * 3


async def test_a_load_sends_empty_cells_for_fields_a_record_does_not_have(world: World) -> None:
    phone = world.synced_lead("mc-0", phone="+573000000000")
    email = world.synced_lead("mc-1", email="mc1@example.com")

    await world.push(phone, email)

    assert world.odoo.calls == [("load", CONTACTS, 2)]
    assert (world.in_odoo()["mc-0"]["email"], world.in_odoo()["mc-1"]["phone"]) == (False, False)
    assert world.in_odoo()["mc-1"]["email"] == "mc1@example.com"


async def test_a_record_changed_alone_is_written(world: World) -> None:
    record = world.synced_lead("mc-1", phone="+573000000001")

    await world.push(record)

    assert world.odoo.calls == [("write", CONTACTS, 1)]
    assert world.statuses(record) == ["synced"]


async def test_a_record_in_step_costs_no_call_and_one_without_data_is_dead_lettered(
    world: World,
) -> None:
    in_step = world.synced_lead("mc-1")
    orphan = world.lead("mc-2")
    del world.sources[source_key(orphan)]

    await world.push(in_step, orphan)

    assert world.odoo.calls == []
    assert world.statuses(in_step, orphan) == ["synced", "dead"]
    assert world.state.row(orphan).last_error_name == "MissingSource"


# --- an uncertain create --------------------------------------------------------------------


async def test_an_uncertain_create_adopts_the_record_odoo_has_and_creates_the_others(
    world: World,
) -> None:
    earlier = world.odoo.add(CONTACTS, {"manychat_id": "mc-1", "nombre_lead": "Old"})
    world.odoo.add(CONTACTS, {"manychat_id": "mc-1", "nombre_lead": "Duplicate"})
    reached = world.lead("mc-1", maybe_created=True, email="mc1@example.com")
    lost = world.lead("mc-2", maybe_created=True)

    await world.push(reached, lost)

    assert world.odoo.calls == [
        ("search_read", CONTACTS, 0),
        ("write", CONTACTS, 1),
        ("create", CONTACTS, 1),
    ]
    adopted = world.state.row(reached)
    assert (adopted.status, adopted.odoo_id, adopted.maybe_created) == ("synced", earlier, False)
    assert world.odoo.records[CONTACTS][earlier]["email"] == "mc1@example.com"
    assert len(world.odoo.records[CONTACTS]) == 3  # mc-2 created once, nothing else
    assert world.statuses(lost) == ["synced"]


async def test_a_failed_lookup_creates_nothing_and_keeps_the_doubt(world: World) -> None:
    record = world.lead("mc-1", maybe_created=True)
    world.odoo.fail_next(OdooUnavailable("Internal Server Error", http_status=500))

    await world.push(record)

    assert world.odoo.calls == [("search_read", CONTACTS, 0)]
    row = world.state.row(record)
    assert (row.status, row.attempts, row.maybe_created, row.leased) == ("pending", 1, True, False)


# --- refusals ---------------------------------------------------------------------------------


async def test_a_rejected_batch_is_split_down_to_the_culprit(world: World) -> None:
    records = [world.lead(f"mc-{i}") for i in range(3)]
    bad = records[1]
    world.sources[source_key(bad)]["email"] = BAD_EMAIL

    await world.push(*records)

    assert world.odoo.calls == [
        ("create", CONTACTS, 3),  # refused whole
        ("create", CONTACTS, 1),  # mc-0
        ("create", CONTACTS, 2),  # refused again
        ("create", CONTACTS, 1),  # mc-1: the culprit
        ("create", CONTACTS, 1),  # mc-2
    ]
    assert world.statuses(*records) == ["synced", "dead", "synced"]
    assert world.state.row(bad).last_error_name == "ValidationError"
    assert sorted(world.in_odoo()) == ["mc-0", "mc-2"]


async def test_a_rejected_load_is_split_and_the_culprit_dead_lettered(world: World) -> None:
    records = [world.synced_lead(f"mc-{i}", phone=f"+5730000000{i}") for i in range(4)]
    bad = records[2]
    world.sources[source_key(bad)]["email"] = BAD_EMAIL

    await world.push(*records)

    assert world.odoo.calls == [
        ("load", CONTACTS, 3),  # mc-0..2 (a batch): refused whole
        ("write", CONTACTS, 1),  # mc-0 alone: a write
        ("load", CONTACTS, 2),  # mc-1, mc-2: refused again
        ("write", CONTACTS, 1),  # mc-1
        ("write", CONTACTS, 1),  # mc-2: the culprit
        ("write", CONTACTS, 1),  # the next batch: mc-3 alone
    ]
    assert world.statuses(*records) == ["synced", "synced", "dead", "synced"]
    assert world.state.row(bad).last_error_name == "ValidationError"
    assert "email" not in world.in_odoo()["mc-2"]
    assert world.in_odoo()["mc-3"]["phone"] == "+57300000003"


async def test_a_write_to_a_record_deleted_in_odoo_creates_it_again(world: World) -> None:
    record = world.lead(
        "mc-1", odoo_id=99, synced={"manychat_id": "mc-1", "nombre_lead": "Ana"}, phone="+57300"
    )

    await world.push(record)

    row = world.state.row(record)
    assert (row.status, row.odoo_id, row.synced_vals, row.attempts) == ("pending", None, None, 0)

    await world.push(world.state.claim(record.id))  # the next round
    assert world.odoo.calls[-1] == ("create", CONTACTS, 1)
    assert world.statuses(record) == ["synced"]
    assert world.in_odoo()["mc-1"]["phone"] == "+57300"


# --- Odoo down, a call failed ---------------------------------------------------------------


def unreachable() -> OdooUnavailable:
    error = OdooUnavailable("Odoo not reachable: ConnectError")
    error.__cause__ = httpx.ConnectError("connection refused")
    return error


@pytest.mark.parametrize(
    "error",
    [
        OdooCredentialsRejected("Access Denied", code="odoo.exceptions.AccessDenied"),
        OdooUnavailable("Too Many Requests", http_status=429, retry_after=7.0),
        OdooOutcomeUnknown("Bad Gateway", http_status=502),
        OdooUnavailable("Service Unavailable", http_status=503),
        OdooOutcomeUnknown("Gateway Timeout", http_status=504),
        unreachable(),
    ],
    ids=["credentials", "429", "502", "503", "504", "unreachable"],
)
async def test_odoo_down_stops_the_push_and_counts_nothing(world: World, error: OdooError) -> None:
    in_step = world.synced_lead("mc-0")
    new = world.lead("mc-1")
    world.odoo.fail_next(error)

    with pytest.raises(OdooDown) as raised:
        await world.push(in_step, new)

    assert raised.value.cause is error
    assert world.statuses(in_step) == ["synced"]  # settled before Odoo went down
    row = world.state.row(new)
    assert (row.status, row.attempts, row.leased, row.due_in_s) == ("pending", 0, True, None)


async def test_a_call_that_failed_uses_up_an_attempt_and_waits_the_policys_backoff(
    world: World,
) -> None:
    first = world.lead("mc-1")
    again = world.lead("mc-2", attempts=1)
    world.odoo.fail_next(OdooUnavailable("Internal Server Error", http_status=500))

    await world.push(first, again)

    rows = [world.state.row(first), world.state.row(again)]
    assert [(r.status, r.attempts, r.leased) for r in rows] == [
        ("pending", 1, False),
        ("pending", 2, False),
    ]
    # one retry time for the call's records: the next step of the most tried one
    assert [r.due_in_s for r in rows] == [POLICY.backoff.step(2)] * 2
    assert rows[0].last_error_name == "HTTP 500"
    assert not rows[0].maybe_created


async def test_a_create_whose_answer_was_lost_is_looked_up_after_a_longer_wait(
    world: World,
) -> None:
    record = world.lead("mc-1")
    lost = OdooOutcomeUnknown("Odoo did not answer: ReadTimeout")
    lost.__cause__ = httpx.ReadTimeout("timed out")
    world.odoo.fail_next(lost)

    await world.push(record)

    row = world.state.row(record)
    assert (row.status, row.attempts, row.maybe_created) == ("pending", 1, True)
    assert row.due_in_s == max(POLICY.backoff.step(1), POLICY.uncertain_s)


async def test_a_write_whose_answer_was_lost_is_simply_retried(world: World) -> None:
    record = world.synced_lead("mc-1", phone="+57300")
    world.odoo.fail_next(OdooOutcomeUnknown("Odoo did not answer: ReadTimeout"))

    await world.push(record)

    row = world.state.row(record)
    assert (row.attempts, row.maybe_created, row.due_in_s) == (1, False, POLICY.backoff.step(1))


async def test_after_max_attempts_the_record_is_dead_lettered_with_the_last_error(
    world: World,
) -> None:
    worn = world.lead("mc-1", attempts=POLICY.max_attempts - 1)
    fresh = world.lead("mc-2")
    world.odoo.fail_next(OdooUnavailable("Internal Server Error", http_status=500))

    await world.push(worn, fresh)

    assert world.statuses(worn, fresh) == ["dead", "pending"]
    dead = world.state.row(worn)
    assert dead.last_error == "max attempts (3) exhausted: Internal Server Error"
    assert world.state.row(fresh).due_in_s == POLICY.backoff.step(1)
