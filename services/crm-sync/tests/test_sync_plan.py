"""The sync plan is pure: which records are created, written together, loaded together,
looked up first, or already in step."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cauce_crm_sync.mapping import OdooMapping, changed_vals
from cauce_crm_sync.store.sync_state import SyncRecord
from cauce_crm_sync.sync.plan import plan_sync

MAPPING = OdooMapping.from_settings("manychat.contact", "manychat.state", {}, {})


def record(
    key: str,
    *,
    odoo_id: int | None = None,
    synced: dict[str, Any] | None = None,
    maybe_created: bool = False,
    kind: str = "contact",
    rid: int = 0,
) -> SyncRecord:
    return SyncRecord(
        id=rid or abs(hash(key)) % 10_000,
        tenant_id="acme",
        kind=kind,  # type: ignore[arg-type]
        record_key=key,
        odoo_id=odoo_id,
        revision=2,
        leased_revision=2,
        maybe_created=maybe_created,
        attempts=0,
        synced_vals=synced,
    )


def lead(key: str, **fields: Any) -> dict[str, Any]:
    return {"tenant_id": "acme", "manychat_id": key, "nombre_lead": "Ana", **fields}


def test_new_records_are_created_and_known_ones_send_only_what_changed() -> None:
    new, known = (
        record("a"),
        record("b", odoo_id=7, synced={"manychat_id": "b", "nombre_lead": "Ana"}),
    )
    sources = {("acme", "a"): lead("a"), ("acme", "b"): lead("b", email="b@x.co")}

    plan = plan_sync([new, known], sources, MAPPING)

    assert plan.creates["contact"] == [(new, {"manychat_id": "a", "nombre_lead": "Ana"})]
    assert plan.updates["contact"] == [(known, {"email": "b@x.co"})]
    assert not plan.writes


def test_identical_changes_share_one_write_and_different_ones_go_to_load() -> None:
    synced = {"manychat_id": "x", "nombre_lead": "Ana"}
    same = [
        record(k, odoo_id=i, synced={**synced, "manychat_id": k}) for i, k in enumerate("pqr", 1)
    ]
    other = record("s", odoo_id=9, synced={**synced, "manychat_id": "s"})
    sources = {("acme", r.record_key): lead(r.record_key, ultimo_estado="pagado") for r in same}
    sources[("acme", "s")] = lead("s", ultimo_estado="nuevo")

    plan = plan_sync([*same, other], sources, MAPPING)

    assert [[r.record_key for r, _ in group] for group in plan.writes["contact"]] == [
        ["p", "q", "r"]
    ]
    assert plan.updates["contact"] == [(other, {"ultimo_estado": "nuevo"})]


def test_a_record_whose_create_may_have_happened_is_looked_up_first() -> None:
    uncertain = record("u", maybe_created=True)
    plan = plan_sync([uncertain], {("acme", "u"): lead("u")}, MAPPING)
    assert [r for r, _ in plan.lookups["contact"]] == [uncertain]
    assert not plan.creates["contact"]


def test_a_record_odoo_already_has_is_in_step_and_one_without_data_is_an_orphan() -> None:
    vals = {"manychat_id": "i", "nombre_lead": "Ana"}
    in_step, orphan = record("i", odoo_id=3, synced=vals), record("gone", odoo_id=4)
    plan = plan_sync([in_step, orphan], {("acme", "i"): lead("i")}, MAPPING)
    assert plan.in_step == [(in_step, vals)]
    assert plan.orphans == [orphan]
    assert plan.calls() == 0


def test_state_changes_are_keyed_by_event_and_datetimes_use_odoos_format() -> None:
    change = record("ev-1", kind="state")
    at = datetime(2025, 6, 5, 12, 41, 36, 500, tzinfo=UTC)
    source = {
        "manychat_id": "m",
        "event_id": "ev-1",
        "state": "pagado",
        "changed_at": at,
        "source": "conversation",
        "previous_state": None,
    }
    plan = plan_sync([change], {"ev-1": source}, MAPPING)
    [(_, vals)] = plan.creates["state"]
    assert vals == {
        "manychat_id": "m",
        "event_id": "ev-1",
        "state": "pagado",
        "changed_at": "2025-06-05 12:41:36",
        "source": "conversation",
    }


def test_mapping_renames_and_drops_fields_and_refuses_unknown_ones() -> None:
    mapping = OdooMapping.from_settings("x_lead", "x_state", {"phone": "x_tel", "email": ""}, {})
    vals = mapping.contact.vals(lead("m", phone="+57", email="a@b.co"))
    assert vals == {"manychat_id": "m", "nombre_lead": "Ana", "x_tel": "+57"}
    with pytest.raises(ValueError, match="telefono"):
        OdooMapping.from_settings("m", "s", {"telefono": "x"}, {})


def test_a_field_emptied_since_the_last_sync_is_sent_as_false() -> None:
    assert changed_vals({"a": 1}, {"a": 1, "b": 2}) == {"b": False}
    assert changed_vals({"a": 1}, None) == {"a": 1}
