"""Odoo -> cauce: what someone changed on a lead in Odoo, applied by who owns each field
(:class:`~cauce_crm_sync.mapping.ContactOwnership`). The webhook path (Odoo's
automation rule, through the gateway) and the reconciliation both come through
:meth:`OdooChanges.apply`, so they cannot disagree.

For each mapped field Odoo sent that differs from cauce's:

- **cauce-owned**: Odoo's copy is wrong; the record is marked to be sent again, with
  Odoo's value as what Odoo last got, so only the repaired fields go;
- **shared**: the newer side wins, Odoo's ``write_date`` against cauce's timestamp of
  the value (``state_changed_at``, ``assigned_at``). A newer state in Odoo becomes a
  ``crm.lead.state_changed`` with ``source="odoo"`` on the bus (named by the edit, so
  the webhook and the reconciliation publish the same event once), which crm-sync's
  consumer applies like any other, so the inbox and the campaign audiences see it too;
  a newer advisor is written at once. An older Odoo value is repaired instead;
- **Odoo-owned** (the operator's list of Odoo fields): kept in ``odoo_values`` when
  newer than what cauce has, never written back.

A value equal to cauce's changes nothing: cauce's own writes, echoed back by Odoo's
webhook or seen by the next reconciliation, settle at once, and a redelivered change
finds its values already there.

An echo can also come back *after* cauce moved on (ManyChat said "Asignado" while
Odoo's webhook for cauce's earlier "Interesado" was on its way): its ``write_date`` is
Odoo's wall clock, newer than the ManyChat event's own time, so "newer side wins" would
put the stale value back. So: in a webhook's record written before cauce's last write
to it (``synced_at``, to the second), the fields cauce writes are a late snapshot Odoo
has since overwritten, and change nothing (the reconciliation reads what Odoo has now;
Odoo-owned fields keep their own clock); a value equal to what
cauce last wrote to that field (``synced_vals``) is cauce's own, never an edit, and
cauce's newer value goes again; and a change that would win while cauce is writing the
record (its lease) waits until that write is recorded (retried). ``make chaos`` found
this one. Left: an echo and cauce's next write to the same record in the same second,
with different values, is weighed as an edit (Odoo's timestamps have whole seconds).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import asyncpg

from cauce_contracts.crm import LeadStateChanged
from cauce_contracts.envelope import stable_event_id
from cauce_crm_sync.mapping import ODOO_DATETIME, ContactOwnership, OdooMapping, to_odoo_value
from cauce_crm_sync.store.sync_state import mark_changed
from cauce_runtime import TransientError

Path = Literal["webhook", "reconciliation"]
Rule = Literal["cauce_owned", "odoo_newer", "cauce_newer"]
#: Publishes a lead's state change on the bus (awaited before the change counts).
PublishState = Callable[[LeadStateChanged], Awaitable[None]]


@dataclass(frozen=True)
class OdooChange:
    """One Odoo record as Odoo has it now (Odoo field names; only the fields sent)."""

    odoo_id: int
    values: Mapping[str, Any]
    #: Odoo's ``write_date`` of the record.
    write_date: datetime
    #: The company, when the path knows it (the webhook's URL token).
    tenant_id: str | None = None
    #: ``webhook``: a snapshot taken when Odoo wrote, maybe delivered late;
    #: ``reconciliation``: the record as Odoo has it now.
    path: Path = "webhook"


@dataclass
class Applied:
    #: False when the record is none of cauce's (Odoo records cauce never created).
    known: bool = True
    #: cauce fields and Odoo-owned fields taken from Odoo.
    pulled: list[str] = field(default_factory=list)
    #: Fields whose Odoo copy is being rewritten, with the rule that decided it.
    repaired: dict[str, Rule] = field(default_factory=dict)
    #: Shared fields Odoo won.
    odoo_won: list[str] = field(default_factory=list)


def odoo_datetime(value: Any) -> datetime | None:
    """Odoo's ``"YYYY-MM-DD HH:MM:SS"`` (UTC) as an aware datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.strptime(value[:19], ODOO_DATETIME).replace(tzinfo=UTC)
    except ValueError:
        return None


def _plain(value: Any) -> Any:
    """Odoo's value as cauce compares it: ``False``/``""`` are empty; a many2one
    ``[id, "name"]`` is its id."""
    if value is False or value == "":
        return None
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], int):
        return value[0]
    return value


def _before_cauces_last_write(record: Any, write_date: datetime) -> bool:
    """Whether the record as Odoo sent it was written in a second before cauce last
    wrote it: a late webhook (its snapshot since overwritten by cauce), nothing to
    apply or repair. Odoo's ``write_date`` has whole seconds, so a change in the same
    second as cauce's write is still weighed."""
    synced_at = record["synced_at"]
    return synced_at is not None and write_date < synced_at.replace(microsecond=0)


def _cauces_own_write(record: Any, field: str, value: Any) -> bool:
    """Whether Odoo's ``value`` of ``field`` is what cauce itself last wrote there: an
    echo of cauce's write (or a field nobody touched since), not an edit."""
    synced = _json(record["synced_vals"])
    return record["synced_at"] is not None and field in synced and _plain(synced[field]) == value


def _json(value: Any) -> dict[str, Any]:
    """A jsonb column as a dict (asyncpg hands jsonb over as text)."""
    if isinstance(value, str):
        loaded = json.loads(value)
        return dict(loaded) if isinstance(loaded, dict) else {}
    return dict(value or {})


class OdooChanges:
    def __init__(
        self,
        pool: asyncpg.Pool,
        mapping: OdooMapping,
        ownership: ContactOwnership,
        publish_state: PublishState,
    ) -> None:
        self.pool = pool
        self.mapping = mapping
        self.ownership = ownership
        self.publish_state = publish_state

    @property
    def fields(self) -> list[str]:
        """The Odoo fields of the contact model a change is read with."""
        return [*self.mapping.contact.fields.values(), *self.ownership.odoo_fields, "write_date"]

    async def apply(self, change: OdooChange) -> Applied:
        async with self.pool.acquire() as connection, connection.transaction():
            record = await connection.fetchrow(
                """
                SELECT tenant_id, record_key, synced_vals, synced_at,
                       lease_until > now() AS writing
                FROM crm.sync_records
                WHERE kind = 'contact' AND odoo_id = $1 AND ($2::text IS NULL OR tenant_id = $2)
                ORDER BY id LIMIT 1 FOR UPDATE
                """,
                change.odoo_id,
                change.tenant_id,
            )
            if record is None:
                return Applied(known=False)
            contact = await connection.fetchrow(
                """
                SELECT * FROM crm.contacts WHERE tenant_id = $1 AND manychat_id = $2
                FOR UPDATE
                """,
                record["tenant_id"],
                record["record_key"],
            )
            if contact is None:
                return Applied(known=False)
            applied, state = await self._apply(connection, record, dict(contact), change)
        if state is not None:
            await self.publish_state(state)
        return applied

    async def _apply(
        self, connection: Any, record: Any, contact: dict[str, Any], change: OdooChange
    ) -> tuple[Applied, LeadStateChanged | None]:
        applied = Applied()
        # a snapshot whose mapped fields cauce has written over since (Odoo-owned fields
        # have their own clock below: odoo_written_at)
        late = change.path == "webhook" and _before_cauces_last_write(record, change.write_date)
        stale: dict[str, Any] = {}  # Odoo field -> Odoo's (wrong) value, to rewrite
        updates: dict[str, Any] = {}  # cauce column -> value taken from Odoo
        state: LeadStateChanged | None = None
        for ours, theirs_name in self.mapping.contact.fields.items():
            if late or theirs_name not in change.values:
                continue
            theirs = _plain(change.values[theirs_name])
            if theirs == to_odoo_value(contact.get(ours)):
                continue
            if _cauces_own_write(record, theirs_name, theirs):
                applied.repaired[ours] = "cauce_newer"  # cauce moved on since: it goes again
                stale[theirs_name] = change.values[theirs_name]
                continue
            stamp_field = self.ownership.shared.get(ours)
            stamp = contact.get(stamp_field) if stamp_field else None
            if stamp_field and (stamp is None or change.write_date > stamp):
                if record["writing"]:  # maybe the echo of the write in flight: after it
                    raise TransientError("cauce is writing this record to Odoo; retried after")
                applied.odoo_won.append(ours)
                if ours == "ultimo_estado" and theirs is not None:
                    # applied by the consumer, as every state change is
                    state = self._state_change(record, contact, str(theirs), change)
                else:
                    updates[ours] = theirs
                    updates[stamp_field] = change.write_date
                stale[theirs_name] = theirs  # Odoo has it: only the timestamp goes back
                applied.pulled.append(ours)
            else:
                applied.repaired[ours] = "cauce_newer" if stamp_field else "cauce_owned"
                stale[theirs_name] = change.values[theirs_name]
        odoo_values = self._odoo_owned(contact, change)
        if odoo_values is not None:
            before = _json(contact.get("odoo_values"))
            applied.pulled.extend(n for n, v in odoo_values.items() if before.get(n, None) != v)
        await self._write(connection, record, updates, odoo_values, change)
        if stale:
            await self._rewrite(connection, record, stale)
        return applied, state

    def _odoo_owned(self, contact: Mapping[str, Any], change: OdooChange) -> dict[str, Any] | None:
        """The Odoo-owned values after this change (None: nothing newer changed)."""
        written_at = contact.get("odoo_written_at")
        if written_at is not None and change.write_date < written_at:
            return None  # an older edit, delivered late
        current = _json(contact.get("odoo_values"))
        sent = {
            name: _plain(change.values[name])
            for name in self.ownership.odoo_fields
            if name in change.values
        }
        merged = {**current, **sent}
        return merged if merged != current else None

    async def _write(
        self,
        connection: Any,
        record: Any,
        updates: dict[str, Any],
        odoo_values: dict[str, Any] | None,
        change: OdooChange,
    ) -> None:
        columns = dict(updates)
        if odoo_values is not None:
            columns["odoo_values"] = json.dumps(odoo_values, default=str)
            columns["odoo_written_at"] = change.write_date
        if not columns:
            return
        # column names come from the mapping's known fields, never from Odoo
        assignments = ", ".join(
            f"{name} = ${n}::jsonb" if name == "odoo_values" else f"{name} = ${n}"
            for n, name in enumerate(columns, start=3)
        )
        await connection.execute(
            f"""
            UPDATE crm.contacts SET {assignments}, updated_at = now()
            WHERE tenant_id = $1 AND manychat_id = $2
            """,  # noqa: S608
            record["tenant_id"],
            record["record_key"],
            *columns.values(),
        )

    async def _rewrite(self, connection: Any, record: Any, stale: dict[str, Any]) -> None:
        """Send the record again; ``stale`` is what Odoo has now on the fields that
        differ, so those (and nothing Odoo already has) are what goes."""
        synced = {**_json(record["synced_vals"]), **stale}
        await connection.execute(
            """
            UPDATE crm.sync_records SET synced_vals = $3::jsonb
            WHERE kind = 'contact' AND tenant_id = $1 AND record_key = $2
            """,
            record["tenant_id"],
            record["record_key"],
            json.dumps(synced, default=str),
        )
        await mark_changed(connection, record["tenant_id"], "contact", record["record_key"])

    @staticmethod
    def _state_change(
        record: Any, contact: Mapping[str, Any], state: str, change: OdooChange
    ) -> LeadStateChanged:
        tenant, key = record["tenant_id"], record["record_key"]
        event_id = stable_event_id(
            "odoo-state", tenant, key, str(change.odoo_id), change.write_date.isoformat(), state
        )
        return LeadStateChanged(
            event_id=event_id,
            tenant_id=tenant,
            correlation_id=f"odoo:{change.odoo_id}",
            manychat_id=key,
            previous_state=contact.get("ultimo_estado"),
            new_state=state,
            changed_at=change.write_date,
            source="odoo",
        )
