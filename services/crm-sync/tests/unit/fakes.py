"""In-memory stand-ins for the pusher's sync state (:class:`FakeSyncState`, the
:class:`~cauce_crm_sync.sync.pusher.SyncOutcomes` of ``crm.sync_records``) and for Odoo
(:class:`FakeOdoo`, an :class:`~cauce_crm_sync.odoo.OdooApi`).

:class:`FakeSyncState` applies the rules of :mod:`cauce_crm_sync.store.sync_state`'s
statements: every outcome releases the lease; a sync stores the leased revision and
stays pending when the record changed since; a retry counts an attempt only when told
and marks a record without Odoo id ``maybe_created`` when told; a dead letter counts
one more attempt. :class:`FakeOdoo` refuses like Odoo: a ``create`` or ``load`` with
one bad record is refused whole (one transaction), a ``write`` to a deleted record is a
``MissingError``; :meth:`FakeOdoo.fail_next` makes the next calls fail as given.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import count
from typing import Any, Literal

from cauce_crm_sync.mapping import Kind
from cauce_crm_sync.odoo import Domain, OdooError, OdooRejected, Vals
from cauce_crm_sync.store.sync_state import SyncRecord


@dataclass
class Row:
    """One ``crm.sync_records`` row, as far as the pusher's outcomes change it."""

    id: int
    tenant_id: str
    kind: Kind
    record_key: str
    odoo_id: int | None = None
    revision: int = 1
    leased_revision: int | None = 1
    synced_revision: int | None = None
    synced_vals: dict[str, Any] | None = None
    status: Literal["pending", "synced", "dead"] = "pending"
    attempts: int = 0
    maybe_created: bool = False
    leased: bool = True
    #: Seconds until it is due again (None: not given back yet).
    due_in_s: float | None = None
    last_error_name: str | None = None
    last_error: str | None = None


class FakeSyncState:
    def __init__(self) -> None:
        self.rows: dict[int, Row] = {}
        self._ids = count(1)

    def add(
        self,
        kind: Kind,
        record_key: str,
        *,
        odoo_id: int | None = None,
        synced_vals: dict[str, Any] | None = None,
        attempts: int = 0,
        maybe_created: bool = False,
    ) -> SyncRecord:
        """A pending record, claimed by this replica: the record the pusher gets."""
        row = Row(
            next(self._ids),
            "acme",
            kind,
            record_key,
            odoo_id=odoo_id,
            synced_vals=synced_vals,
            attempts=attempts,
            maybe_created=maybe_created,
        )
        self.rows[row.id] = row
        return self.claim(row.id)

    def claim(self, row_id: int) -> SyncRecord:
        """Lease the row again (the next round's claim)."""
        row = self.rows[row_id]
        row.leased, row.leased_revision = True, row.revision
        return SyncRecord(
            id=row.id,
            tenant_id=row.tenant_id,
            kind=row.kind,
            record_key=row.record_key,
            odoo_id=row.odoo_id,
            revision=row.revision,
            leased_revision=row.leased_revision,
            maybe_created=row.maybe_created,
            attempts=row.attempts,
            synced_vals=row.synced_vals,
        )

    def row(self, record: SyncRecord) -> Row:
        return self.rows[record.id]

    async def mark_synced(self, synced: Sequence[tuple[SyncRecord, int, Vals]]) -> None:
        for record, odoo_id, vals in synced:
            row = self.rows[record.id]
            stored_vals = json.loads(json.dumps(vals, default=str))
            changed_since = row.revision != row.leased_revision
            self.rows[record.id] = replace(
                row,
                odoo_id=odoo_id,
                synced_revision=row.leased_revision,
                synced_vals={**(row.synced_vals or {}), **stored_vals},
                status="pending" if changed_since else "synced",
                attempts=0,
                maybe_created=False,
                leased=False,
                due_in_s=0.0,
                last_error_name=None,
                last_error=None,
            )

    async def mark_retry(
        self,
        records: Sequence[SyncRecord],
        *,
        delay_s: float,
        error_name: str,
        error: str,
        count_attempt: bool,
        maybe_created: bool = False,
    ) -> None:
        for record in records:
            row = self.rows[record.id]
            row.attempts += 1 if count_attempt else 0
            row.due_in_s = delay_s
            row.leased = False
            row.maybe_created = row.maybe_created or (maybe_created and row.odoo_id is None)
            row.last_error_name, row.last_error = error_name, error

    async def mark_dead(
        self, records: Sequence[SyncRecord], *, error_name: str, error: str
    ) -> None:
        for record in records:
            row = self.rows[record.id]
            row.status, row.attempts, row.leased = "dead", row.attempts + 1, False
            row.last_error_name, row.last_error = error_name, error

    async def forget_odoo_id(self, record: SyncRecord) -> None:
        row = self.rows[record.id]
        row.odoo_id, row.synced_vals, row.due_in_s, row.leased = None, None, 0.0, False


Call = tuple[str, str, int]


class FakeOdoo:
    """Odoo's records per model; ``calls`` logs ``(method, model, records)`` of every
    call, refused ones included."""

    def __init__(self, rejects: Callable[[Vals], bool] = lambda vals: False) -> None:
        self.records: dict[str, dict[int, Vals]] = defaultdict(dict)
        self.calls: list[Call] = []
        #: Whether Odoo's validation refuses a record with these vals.
        self.rejects = rejects
        self._failures: list[OdooError] = []
        self._ids = count(1)

    def fail_next(self, *errors: OdooError) -> None:
        """The next calls fail with ``errors``, one each, whatever they are."""
        self._failures.extend(errors)

    def add(self, model: str, vals: Vals) -> int:
        """A record that is in Odoo already."""
        odoo_id = next(self._ids)
        self.records[model][odoo_id] = dict(vals)
        return odoo_id

    def _call(self, method: str, model: str, records: int) -> None:
        self.calls.append((method, model, records))
        if self._failures:
            raise self._failures.pop(0)

    def _validate(self, vals_list: Sequence[Vals]) -> None:
        if any(self.rejects(vals) for vals in vals_list):
            raise OdooRejected("Invalid value", code="odoo.exceptions.ValidationError")

    def _existing(self, model: str, ids: Sequence[int]) -> None:
        if any(odoo_id not in self.records[model] for odoo_id in ids):
            raise OdooRejected(
                "Record does not exist or has been deleted.",
                code="odoo.exceptions.MissingError",
            )

    async def version(self) -> dict[str, Any]:
        return {"server_version": "18.0"}

    async def create(self, model: str, vals_list: list[Vals]) -> list[int]:
        self._call("create", model, len(vals_list))
        self._validate(vals_list)
        return [self.add(model, vals) for vals in vals_list]

    async def write(self, model: str, ids: list[int], vals: Vals) -> None:
        self._call("write", model, len(ids))
        self._existing(model, ids)
        self._validate([vals])
        for odoo_id in ids:
            self.records[model][odoo_id].update(vals)

    async def load(self, model: str, fields: list[str], rows: list[list[Any]]) -> list[int]:
        self._call("load", model, len(rows))
        assert fields[0] == ".id"
        # Import columns are text; an empty cell clears the field.
        updates = {
            int(row[0]): {
                f: v if v != "" else False for f, v in zip(fields[1:], row[1:], strict=True)
            }
            for row in rows
        }
        self._existing(model, list(updates))
        self._validate(list(updates.values()))
        for odoo_id, vals in updates.items():
            self.records[model][odoo_id].update(vals)
        return list(updates)

    async def search(
        self, model: str, domain: Domain, *, limit: int | None = None, order: str | None = None
    ) -> list[int]:
        rows = await self.search_read(model, domain, ["id"], limit=limit, order=order)
        return [row["id"] for row in rows]

    async def search_read(
        self,
        model: str,
        domain: Domain,
        fields: list[str],
        *,
        limit: int | None = None,
        offset: int = 0,
        order: str | None = None,
    ) -> list[dict[str, Any]]:
        """Only what the pusher asks: ``[[field, "in", values]]``, by id."""
        self._call("search_read", model, 0)
        [[field, operator, values]] = domain
        assert operator == "in"
        found = [
            {"id": odoo_id, **{f: vals.get(f, False) for f in fields}}
            for odoo_id, vals in sorted(self.records[model].items())
            if vals.get(field) in values
        ]
        return found[offset:][:limit]

    async def read(self, model: str, ids: list[int], fields: list[str]) -> list[dict[str, Any]]:
        self._call("read", model, len(ids))
        return [
            {"id": i, **{f: self.records[model][i].get(f, False) for f in fields}}
            for i in ids
            if i in self.records[model]
        ]

    async def unlink(self, model: str, ids: list[int]) -> None:
        self._call("unlink", model, len(ids))
        for odoo_id in ids:
            self.records[model].pop(odoo_id, None)

    async def aclose(self) -> None:
        return None
