"""The fake Odoo's models and records: an in-memory store that refuses values as Odoo
would, with Odoo's exception names. Every operation validates everything before changing
anything, and none awaits, so a request is one transaction as in Odoo.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cauce_devstack.sandbox.odoo.domains import (
    DATETIME_FORMAT,
    compile_domain,
    parse_date,
    parse_datetime,
    parse_order,
    sort_rows,
)
from cauce_devstack.sandbox.odoo.errors import (
    access_error,
    invalid_field,
    missing_error,
    type_error,
    validation_error,
    value_error,
)

FieldType = Literal["char", "text", "integer", "float", "boolean", "date", "datetime", "selection"]

MAGIC_COLUMNS: dict[str, str] = {
    "id": "integer",
    "create_date": "datetime",
    "write_date": "datetime",
}
#: Keys a client may send in vals that Odoo silently ignores (log-access columns).
IGNORED_KEYS = frozenset({"id", "create_date", "write_date", "create_uid", "write_uid"})
_INT4 = 2**31 - 1


class OdooField(BaseModel):
    """One field of a fake model: ``{"type": "selection", "selection": ["a", "b"]}``."""

    model_config = ConfigDict(extra="forbid")

    type: FieldType = "char"
    required: bool = False
    selection: list[str] = Field(default_factory=list)
    """The allowed values of a ``selection`` field."""

    @model_validator(mode="after")
    def _selection_has_values(self) -> Self:
        if self.type == "selection" and not self.selection:
            raise ValueError("a selection field needs its selection values")
        return self


def _fields(spec: Mapping[str, FieldType], required: tuple[str, ...] = ()) -> dict[str, OdooField]:
    return {name: OdooField(type=ftype, required=name in required) for name, ftype in spec.items()}


def default_models() -> dict[str, dict[str, OdooField]]:
    """The two models crm-sync writes."""
    contact: dict[str, FieldType] = {
        "manychat_id": "char",
        "nombre_lead": "char",
        "first_name": "char",
        "last_name": "char",
        "phone": "char",
        "email": "char",
        "contact_id": "char",
        "ultimo_estado": "char",
        "datetime_actual": "datetime",
        "campaign_id": "char",
        "comercial_id": "char",
        "tipo_asignacion": "char",
        "assigned_at": "datetime",
        "state_changed_at": "datetime",
    }
    state: dict[str, FieldType] = {
        "manychat_id": "char",
        "event_id": "char",
        "state": "char",
        "previous_state": "char",
        "changed_at": "datetime",
    }
    states = _fields(state, required=("manychat_id", "state"))
    states["source"] = OdooField(
        type="selection", selection=["manychat", "odoo", "conversation", "agent"]
    )
    contacts = _fields(contact, required=("manychat_id",))
    # what sales people set in Odoo's UI (Odoo-owned in cauce's sync)
    contacts["x_etapa"] = OdooField(type="selection", selection=list(SALES_STAGES))
    contacts["x_notas"] = OdooField(type="text")
    return {"manychat.contact": contacts, "manychat.state": states}


#: The sales stages of the fake contact model's ``x_etapa``.
SALES_STAGES = ("nuevo", "contactado", "negociacion", "ganado", "perdido")


def utcnow() -> datetime:
    """Now as Odoo stores it: naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def readable(ftype: str, value: Any) -> Any:
    """A stored value as Odoo reads it back over JSON."""
    if value is None:
        return {"integer": 0, "float": 0.0}.get(ftype, False)
    if isinstance(value, datetime):
        return value.strftime(DATETIME_FORMAT)
    if isinstance(value, date):
        return value.isoformat()
    return value


class OdooModel:
    """One model's schema and records (id -> stored values). ``create_date`` and
    ``write_date`` are stored to the microsecond, as PostgreSQL does, so a domain
    ``write_date > X`` sees a write made later within the same second."""

    def __init__(self, name: str, fields: Mapping[str, OdooField]) -> None:
        self.name = name
        self.fields = dict(fields)
        self.columns: dict[str, str] = {
            **{fname: spec.type for fname, spec in self.fields.items()},
            **MAGIC_COLUMNS,
        }
        self.rows: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(1)

    def new_id(self) -> int:
        return next(self._ids)

    def convert(self, fname: str, value: Any) -> Any:
        """``value`` for field ``fname`` in stored form, or Odoo's refusal."""
        spec = self.fields[fname]
        ftype = spec.type
        if value is None or value is False:
            return False if ftype == "boolean" else None
        if ftype in ("char", "text", "selection") and isinstance(value, str):
            if ftype == "selection" and value not in spec.selection:
                raise validation_error(f"Wrong value for {self.name}.{fname}: {value!r}")
            return value
        if ftype == "integer" and isinstance(value, int) and not isinstance(value, bool):
            if abs(value) > _INT4:
                raise validation_error(f"Value {value} is out of range for {self.name}.{fname}")
            return value
        if ftype == "float" and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if ftype == "boolean" and isinstance(value, bool):
            return value
        if ftype == "datetime" and isinstance(value, str):
            return parse_datetime(value)
        if ftype == "date" and isinstance(value, str):
            return parse_date(value)
        raise validation_error(
            f"Wrong value for {self.name}.{fname}: {value!r} is not a valid {ftype} value"
        )

    def clean(self, vals: Any, *, creating: bool) -> dict[str, Any]:
        """Validated, converted ``vals`` (with defaults when ``creating``)."""
        if not isinstance(vals, dict):
            raise type_error(f"vals must be a dict of field values, not {type(vals).__name__}")
        for key in vals:
            if key not in self.fields and key not in IGNORED_KEYS:
                raise invalid_field(str(key), self.name)
        cleaned = {
            key: self.convert(key, value) for key, value in vals.items() if key in self.fields
        }
        if creating:
            cleaned = {
                fname: False if spec.type == "boolean" else None
                for fname, spec in self.fields.items()
            } | cleaned
        for fname, value in cleaned.items():
            if value is None and self.fields[fname].required:
                raise self.not_null(fname)
        return cleaned

    def not_null(self, fname: str) -> Exception:
        """Odoo's translation of PostgreSQL's NOT NULL violation."""
        return validation_error(
            "The operation cannot be completed:\n"
            "- Create/update: a mandatory field is not set.\n"
            "- Delete: another model requires the record being deleted. "
            "If possible, archive it instead.\n\n"
            f"Model: {self.name} ({self.name})\n"
            f"Field: {fname} ({fname})\n"
        )

    def field_names(self, fields: Any) -> list[str]:
        """The fields to read (empty: all of them); ``id`` always comes first anyway."""
        if not fields:
            return [*self.fields, "create_date", "write_date"]
        if not isinstance(fields, list | tuple) or not all(isinstance(f, str) for f in fields):
            raise value_error(f"fields must be a list of field names, not {fields!r}")
        for fname in fields:
            if fname not in self.columns:
                raise invalid_field(fname, self.name)
        return [fname for fname in fields if fname != "id"]

    def present(self, row: Mapping[str, Any], fnames: list[str]) -> dict[str, Any]:
        return {"id": row["id"]} | {
            fname: readable(self.columns[fname], row.get(fname)) for fname in fnames
        }


def _ids(ids: Any) -> list[int]:
    if isinstance(ids, int) and not isinstance(ids, bool):
        return [ids]
    if isinstance(ids, list | tuple) and all(
        isinstance(i, int) and not isinstance(i, bool) for i in ids
    ):
        return list(ids)
    raise value_error(f"ids must be a list of record ids, not {ids!r}")


def _count(value: Any, name: str) -> int | None:
    """``limit``/``offset``: falsy means none (as Odoo treats ``limit=0``)."""
    if value is None or value is False or value == 0:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    raise value_error(f"{name} must be a positive integer, not {value!r}")


class OdooRecords:
    """Every fake model's records; the ORM operations the fake serves."""

    def __init__(
        self,
        models: Mapping[str, Mapping[str, OdooField]],
        uid: int,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.models = {name: OdooModel(name, fields) for name, fields in models.items()}
        self.uid = uid
        self.clock = clock
        #: Told of every committed create and write, ``(model, ids)`` (an automation rule).
        self.on_written: Callable[[str, list[int]], None] | None = None

    def _written(self, name: str, ids: list[int]) -> None:
        if self.on_written is not None:
            self.on_written(name, ids)

    def model(self, name: Any) -> OdooModel:
        model = self.models.get(name) if isinstance(name, str) else None
        if model is None:
            raise access_error(str(name))
        return model

    def _existing(self, model: OdooModel, ids: Any) -> list[int]:
        wanted = list(dict.fromkeys(_ids(ids)))
        missing = [i for i in wanted if i not in model.rows]
        if missing:
            raise missing_error(model.name, missing, self.uid)
        return wanted

    def create(self, name: str, vals_list: list[Any]) -> list[int]:
        model = self.model(name)
        cleaned = [model.clean(vals, creating=True) for vals in vals_list]
        now = self.clock()
        ids = []
        for values in cleaned:
            record_id = model.new_id()
            model.rows[record_id] = values | {
                "id": record_id,
                "create_date": now,
                "write_date": now,
            }
            ids.append(record_id)
        self._written(name, ids)
        return ids

    def write(self, name: str, ids: Any, vals: Any) -> None:
        model = self.model(name)
        targets = self._existing(model, ids)
        if not targets:
            return
        values = model.clean(vals, creating=False)
        now = self.clock()
        for record_id in targets:
            model.rows[record_id].update(values, write_date=now)
        self._written(name, targets)

    def search(
        self, name: str, domain: Any, offset: Any = 0, limit: Any = None, order: Any = None
    ) -> list[int]:
        model = self.model(name)
        predicate = compile_domain(domain, model.name, model.columns)
        terms = parse_order(order, model.name, model.columns)
        start = _count(offset, "offset") or 0
        size = _count(limit, "limit")
        rows = sort_rows([row for row in model.rows.values() if predicate(row)], terms)
        return [row["id"] for row in rows[start : start + size if size else None]]

    def read(self, name: str, ids: Any, fields: Any = None) -> list[dict[str, Any]]:
        model = self.model(name)
        fnames = model.field_names(fields)
        return [model.present(model.rows[i], fnames) for i in self._existing(model, ids)]

    def unlink(self, name: str, ids: Any) -> None:
        model = self.model(name)
        for record_id in self._existing(model, ids):
            del model.rows[record_id]

    # --- sandbox-only -------------------------------------------------------------------

    def dump(self, name: str) -> list[dict[str, Any]]:
        """Every record of ``name``, every field, by id."""
        model = self.model(name)
        fnames = model.field_names(None)
        return [model.present(row, fnames) for _, row in sorted(model.rows.items())]

    def patch(self, name: str, record_id: int, vals: dict[str, Any]) -> dict[str, Any]:
        """Change a record as a person in Odoo's UI would: ``write_date`` becomes now (or
        the ``write_date`` given, to stage an edit made in the past)."""
        model = self.model(name)
        self._existing(model, [record_id])
        vals = dict(vals)
        stamp = vals.pop("write_date", None)
        written = parse_datetime(stamp) if isinstance(stamp, str) else self.clock()
        values = model.clean(vals, creating=False)
        model.rows[record_id].update(values, write_date=written)
        self._written(name, [record_id])
        return model.present(model.rows[record_id], model.field_names(None))

    def wipe(self) -> int:
        """Delete every record (ids keep counting: Odoo never reuses one)."""
        count = sum(len(model.rows) for model in self.models.values())
        for model in self.models.values():
            model.rows.clear()
        return count
