"""Odoo's ``load``, the ORM's import method (what Odoo's CSV import calls), on the fake's
records. Problems with the rows are answered as a result, not raised, and change
nothing, as in Odoo; the messages follow Odoo's import converter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cauce_devstack.sandbox.odoo.domains import parse_date, parse_datetime
from cauce_devstack.sandbox.odoo.errors import OdooError, type_error, value_error
from cauce_devstack.sandbox.odoo.records import OdooModel, OdooRecords

DB_ID = ".id"
XML_ID = "id"
#: Columns Odoo fills itself: accepted and ignored, as ``create``/``write`` ignore them.
LOG_COLUMNS = frozenset({"create_date", "write_date", "create_uid", "write_uid"})
_TRUE = frozenset({"1", "true", "yes"})
_FALSE = frozenset({"0", "false", "no"})

Message = dict[str, Any]


class _Refused(Exception):
    """A value Odoo's import converter refuses (an error message for its field)."""


class _Doubtful(Exception):
    """A value Odoo's converter takes with a warning (``value`` is what it took)."""

    def __init__(self, message: str, value: Any) -> None:
        super().__init__(message)
        self.value = value


def message(kind: str, text: str, row: int, field: str | None) -> Message:
    """One entry of ``messages``, shaped as Odoo's import reports it."""
    return {
        "type": kind,
        "message": text,
        "record": row,
        "rows": {"from": row, "to": row},
        "field": field,
    }


def _import_value(model: OdooModel, fname: str, value: Any) -> Any:
    """``value`` (import format) in stored form, or :class:`_Refused` / :class:`_Doubtful`."""
    spec = model.fields[fname]
    ftype = spec.type
    if not value:  # Odoo's converter: any falsy value is empty
        return model.convert(fname, False)
    if isinstance(value, list | dict):
        raise _Refused(f"{value!r} is not a valid value for field {fname!r}")
    shown = str(value)
    if ftype in ("char", "text", "selection"):
        if isinstance(value, bool):
            raise _Refused(f"{value!r} is not a valid text value for field {fname!r}")
        if ftype == "selection" and shown not in spec.selection:
            raise _Refused(f"Value {shown!r} not found in selection field {fname!r}")
        return shown
    if ftype == "boolean":
        text = shown.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise _Doubtful(
            f"Unknown value {shown!r} for boolean field {fname!r}, assuming 'yes'", True
        )
    if ftype == "integer":
        if isinstance(value, bool | float):
            raise _Refused(f"{shown!r} does not seem to be an integer for field {fname!r}")
        try:
            number = int(value)
        except ValueError:
            raise _Refused(
                f"{shown!r} does not seem to be an integer for field {fname!r}"
            ) from None
        return _checked(model, fname, number)
    if ftype == "float":
        try:
            real = float(value) if not isinstance(value, bool) else math.nan
        except ValueError:
            real = math.nan
        if not math.isfinite(real):
            raise _Refused(f"{shown!r} does not seem to be a number for field {fname!r}")
        return real
    kind = "datetime" if ftype == "datetime" else "date"
    if not isinstance(value, str):
        raise _Refused(f"{shown!r} does not seem to be a valid {kind} for field {fname!r}")
    try:
        return parse_datetime(value) if ftype == "datetime" else parse_date(value)
    except OdooError:
        raise _Refused(
            f"{shown!r} does not seem to be a valid {kind} for field {fname!r}"
        ) from None


def _checked(model: OdooModel, fname: str, value: Any) -> Any:
    try:
        return model.convert(fname, value)
    except OdooError as error:
        raise _Refused(error.message) from None


def _database_id(raw: Any) -> int | str | None:
    """The ``.id`` of a row: an int, ``None`` (create), or the text of a bad one."""
    if raw is None or raw is False or raw == "":
        return None
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    text = str(raw).strip()
    if not text:
        return None
    return int(text) if text.isascii() and text.isdigit() else text


def _check_arguments(fields: Any, data: Any) -> tuple[list[str], list[list[Any]]]:
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise type_error(f"load() fields must be a list of field names, not {fields!r}")
    if not isinstance(data, list) or not all(isinstance(row, list) for row in data):
        raise type_error("load() data must be a list of rows, each a list of values")
    for index, row in enumerate(data):
        if len(row) != len(fields):
            raise value_error(f"load() row {index} has {len(row)} values for {len(fields)} fields")
    return fields, data


@dataclass
class _Row:
    record_id: int | None
    """The record to update, or ``None`` to create one."""
    values: dict[str, Any]


def _header_messages(model: OdooModel, fields: list[str]) -> list[Message]:
    problems = []
    for fname in dict.fromkeys(fields):
        if fname == XML_ID:
            text = (
                "External ids (column 'id') are not supported by the sandbox's Odoo: "
                "use '.id' (database ids)"
            )
            problems.append(message("error", text, 0, fname))
        elif fname != DB_ID and fname not in model.fields and fname not in LOG_COLUMNS:
            text = f"Unknown field {fname!r} on model {model.name!r}"
            problems.append(message("error", text, 0, fname))
    return problems


def _plan_row(
    model: OdooModel, fields: list[str], row: list[Any], index: int, log: list[Message]
) -> _Row:
    """What ``row`` asks (its problems appended to ``log``)."""
    record_id: int | None = None
    unmatched = False
    values: dict[str, Any] = {}
    for fname, raw in zip(fields, row, strict=True):
        if fname == DB_ID:
            wanted = _database_id(raw)
            if wanted is not None and (isinstance(wanted, str) or wanted not in model.rows):
                text = f"No matching record found for database id '{wanted}' in field 'Database ID'"
                log.append(message("error", text, index, DB_ID))
                unmatched = True
            elif isinstance(wanted, int):
                record_id = wanted
            continue
        if fname not in model.fields:
            continue  # reported once by the header check, or a log column
        try:
            values[fname] = _import_value(model, fname, raw)
        except _Refused as refused:
            log.append(message("error", str(refused), index, fname))
        except _Doubtful as doubtful:
            log.append(message("warning", str(doubtful), index, fname))
            values[fname] = doubtful.value
    if record_id is None and not unmatched:  # a create: Odoo's defaults, required fields
        values = {
            fname: model.convert(fname, False) for fname in model.fields if fname not in values
        } | values
    for fname, value in values.items():
        if value is None and model.fields[fname].required and not unmatched:
            text = f"Missing required value for the field {fname!r} ({fname})"
            log.append(message("error", text, index, fname))
    return _Row(record_id, values)


def load(records: OdooRecords, name: str, fields: Any, data: Any) -> dict[str, Any]:
    """``<name>.load(fields, data)``: every row applied, or none. ``.id`` names a record
    to update (a row without one creates one); an unknown boolean text is only a
    warning; malformed arguments raise, as a Python error in Odoo's ``load`` would."""
    model = records.model(name)
    fields, data = _check_arguments(fields, data)
    log = _header_messages(model, fields)
    plan = [_plan_row(model, fields, row, index, log) for index, row in enumerate(data)]
    if any(entry["type"] == "error" for entry in log):
        return {"ids": False, "messages": log, "nextrow": 0}
    now = records.clock()
    ids = []
    for planned in plan:
        if planned.record_id is None:
            record_id = model.new_id()
            model.rows[record_id] = planned.values | {
                "id": record_id,
                "create_date": now,
                "write_date": now,
            }
        else:
            record_id = planned.record_id
            model.rows[record_id].update(planned.values, write_date=now)
        ids.append(record_id)
    return {"ids": ids, "messages": log, "nextrow": 0}


__all__ = ["DB_ID", "load", "message"]
