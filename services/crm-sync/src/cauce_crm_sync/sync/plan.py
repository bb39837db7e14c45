"""What one sync round sends to Odoo: creates, writes, and records already in step.

Pure: claimed records + their current data + the mapping -> operations. Records
without an Odoo id are created (in batches, one ``create`` per model); records with one
send only the fields that changed since Odoo last got them: records with identical
changes share one ``write``, the others go together in one ``load`` (Odoo's import,
which updates many records with different values in one call). A record whose create
may already have happened (``maybe_created``) is first looked up by its key.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cauce_crm_sync.mapping import Kind, OdooMapping, changed_vals
from cauce_crm_sync.odoo import Vals
from cauce_crm_sync.store.sync_state import SyncRecord

#: One record with the vals to send.
Item = tuple[SyncRecord, Vals]


@dataclass
class SyncPlan:
    #: Records to create, per kind, in claim order.
    creates: dict[Kind, list[Item]] = field(default_factory=lambda: defaultdict(list))
    #: Records to look up by key before creating (their create may have happened).
    lookups: dict[Kind, list[Item]] = field(default_factory=lambda: defaultdict(list))
    #: Groups of two or more records getting the same vals: one ``write`` each, per kind.
    writes: dict[Kind, list[list[Item]]] = field(default_factory=lambda: defaultdict(list))
    #: Records with changes of their own (vals = what changed), per kind: sent together
    #: through Odoo's ``load``, which updates many records with different values at once.
    updates: dict[Kind, list[Item]] = field(default_factory=lambda: defaultdict(list))
    #: Every record's full current vals, by sync record id (rows for ``load``).
    full: dict[int, Vals] = field(default_factory=dict)
    #: Records whose Odoo copy already has their data: nothing to send.
    in_step: list[Item] = field(default_factory=list)
    #: Records whose source row is gone (never expected): dead-lettered with a reason.
    orphans: list[SyncRecord] = field(default_factory=list)

    def calls(self) -> int:
        """Odoo calls the plan needs at least (without failures or batch splits)."""
        return (
            sum(1 for items in self.lookups.values() if items)
            + sum(len(groups) for groups in self.writes.values())
            + sum(1 for items in self.updates.values() if items)
        )


def source_key(record: SyncRecord) -> Any:
    return (record.tenant_id, record.record_key) if record.kind == "contact" else record.record_key


def plan_sync(
    records: list[SyncRecord],
    sources: Mapping[Any, Mapping[str, Any]],
    mapping: OdooMapping,
) -> SyncPlan:
    """Sort ``records`` into the calls to make; ``sources`` maps :func:`source_key` to
    the record's current data (cauce field names)."""
    plan = SyncPlan()
    groups: dict[Kind, dict[str, list[Item]]] = defaultdict(lambda: defaultdict(list))
    for record in records:
        source = sources.get(source_key(record))
        if source is None:
            plan.orphans.append(record)
            continue
        vals = mapping.by_kind[record.kind].vals(source)
        plan.full[record.id] = vals
        if record.odoo_id is None:
            target = plan.lookups if record.maybe_created else plan.creates
            target[record.kind].append((record, vals))
            continue
        diff = changed_vals(vals, record.synced_vals)
        if not diff:
            plan.in_step.append((record, vals))
            continue
        groups[record.kind][json.dumps(diff, sort_keys=True, default=str)].append((record, diff))
    for kind, by_vals in groups.items():
        for group in by_vals.values():
            if len(group) > 1:
                plan.writes[kind].append(group)
            else:
                plan.updates[kind].extend(group)
    return plan
