"""Odoo search domains and ``order`` clauses, evaluated over in-memory rows with the NULL
semantics of the SQL Odoo generates, so a client's domains select here what they would
select in Odoo. Rows hold internal values (``datetime``/``date`` objects, ``None`` for
unset); :func:`operand` converts a domain value to that form.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from cauce_devstack.sandbox.odoo.errors import invalid_field, value_error

Row = Mapping[str, Any]
Predicate = Callable[[Row], bool]
#: field name -> Odoo field type (``char``, ``datetime``, ...), magic fields included
Columns = Mapping[str, str]

OPERATORS = frozenset(
    {
        "=",
        "!=",
        "<>",
        "in",
        "not in",
        "<",
        "<=",
        ">",
        ">=",
        "like",
        "ilike",
        "not like",
        "not ilike",
        "=like",
        "=ilike",
    }
)
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DATE_FORMAT = "%Y-%m-%d"
_DATETIME_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
_DATE_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_datetime(value: str) -> datetime:
    """``YYYY-MM-DD HH:MM:SS`` (UTC, naive) or Odoo's ``builtins.ValueError``."""
    if not _DATETIME_SHAPE.match(value):
        raise value_error(f"time data {value!r} does not match format {DATETIME_FORMAT!r}")
    try:
        return datetime.strptime(value, DATETIME_FORMAT)  # Odoo datetimes: naive UTC
    except ValueError as exc:
        raise value_error(str(exc)) from None


def parse_date(value: str) -> date:
    if not _DATE_SHAPE.match(value):
        raise value_error(f"time data {value!r} does not match format {DATE_FORMAT!r}")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise value_error(str(exc)) from None


def operand(ftype: str, value: Any) -> Any:
    """A domain value in the rows' internal form (dates parsed; a date-only value on a
    datetime field means midnight, as in Odoo)."""
    if value is False or value is None or not isinstance(value, str):
        return value
    if ftype == "datetime":
        if _DATE_SHAPE.match(value):
            return datetime.combine(parse_date(value), datetime.min.time())
        return parse_datetime(value)
    if ftype == "date":
        return parse_date(value)
    return value


def compile_domain(domain: Any, model: str, columns: Columns) -> Predicate:
    """A predicate over rows, or Odoo's ``builtins.ValueError`` for a malformed domain."""
    if domain is None or domain is False:
        domain = []
    if not isinstance(domain, list | tuple):
        raise value_error(f"Invalid domain: {domain!r}")
    terms = list(domain)
    predicates: list[Predicate] = []
    pos = 0
    while pos < len(terms):
        predicate, pos = _parse(terms, pos, model, columns)
        predicates.append(predicate)
    return lambda row: all(predicate(row) for predicate in predicates)


def _parse(terms: list[Any], pos: int, model: str, columns: Columns) -> tuple[Predicate, int]:
    if pos >= len(terms):
        raise value_error(f"Invalid domain: {terms!r} (an operator lacks its operands)")
    term = terms[pos]
    if term == "!":
        inner, after = _parse(terms, pos + 1, model, columns)
        return (lambda row: not inner(row)), after
    if term in ("&", "|"):
        left, middle = _parse(terms, pos + 1, model, columns)
        right, after = _parse(terms, middle, model, columns)
        if term == "&":
            return (lambda row: left(row) and right(row)), after
        return (lambda row: left(row) or right(row)), after
    return _leaf(term, model, columns), pos + 1


def _leaf(term: Any, model: str, columns: Columns) -> Predicate:
    if not isinstance(term, list | tuple) or len(term) != 3:
        raise value_error(f"Invalid leaf {term!r}")
    field, op, raw = term
    shown = tuple(term)
    if isinstance(field, int) and not isinstance(field, bool) and (op, raw) == ("=", 1):
        always = field == 1
        return lambda row: always
    if not isinstance(field, str) or not isinstance(op, str) or op.lower() not in OPERATORS:
        raise value_error(f"Invalid leaf {shown!r}")
    ftype = columns.get(field)
    if ftype is None:
        raise value_error(f"Invalid field {model}.{field} in leaf {shown!r}")
    op = op.lower()
    if op in ("in", "not in"):
        members = raw if isinstance(raw, list | tuple) else [raw]
        converted = [operand(ftype, member) for member in members]
        try:
            values = {m for m in converted if m is not False and m is not None}
        except TypeError:
            raise value_error(f"Invalid leaf {shown!r}: {op} needs a list of values") from None
        with_null = any(m is False or m is None for m in converted)
        inside: Predicate = lambda row: (  # noqa: E731 - the predicate itself
            with_null if _unset(row.get(field)) else row.get(field) in values
        )
        return inside if op == "in" else (lambda row: not inside(row))
    if op.endswith("like"):
        if not isinstance(raw, str):
            raise value_error(f"Invalid leaf {shown!r}: {op} needs a string")
        pattern = raw if op.startswith("=") else f"%{raw}%"
        regex = _like_regex(pattern, ignore_case="ilike" in op)
        negative = op.startswith("not")
        return lambda row: _like(row.get(field), regex, negative)
    value = operand(ftype, raw)
    return lambda row: _compare(op, row.get(field), value, shown)


def _unset(value: Any) -> bool:
    return value is None or value is False


def _compare(op: str, current: Any, value: Any, leaf: tuple[Any, ...]) -> bool:
    if op == "=":
        return _unset(current) if _unset(value) else _equal(current, value)
    if op in ("!=", "<>"):
        return not _unset(current) if _unset(value) else not _equal(current, value)
    if _unset(current) or _unset(value):
        return False
    try:
        if op == "<":
            return bool(current < value)
        if op == "<=":
            return bool(current <= value)
        if op == ">":
            return bool(current > value)
        return bool(current >= value)
    except TypeError:
        raise value_error(f"Invalid leaf {leaf!r}: cannot compare {current!r}") from None


def _equal(current: Any, value: Any) -> bool:
    if isinstance(current, bool) or isinstance(value, bool):
        # Python's True == 1 must not make a boolean equal an integer.
        return type(current) is type(value) and current == value
    return bool(current == value)


def _like(current: Any, regex: re.Pattern[str], negative: bool) -> bool:
    if current is None:
        return negative
    if isinstance(current, datetime):
        text = current.strftime(DATETIME_FORMAT)
    elif isinstance(current, date):
        text = current.isoformat()
    else:
        text = str(current)
    return (regex.fullmatch(text) is None) if negative else (regex.fullmatch(text) is not None)


def _like_regex(pattern: str, *, ignore_case: bool) -> re.Pattern[str]:
    """SQL LIKE (``%`` any run, ``_`` one character, ``\\`` escapes) as a regex."""
    parts: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            parts.append(re.escape(next(chars, "\\")))
        elif char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


_ORDER_TERM = re.compile(r"^\s*(\w+)(?:\s+(asc|desc))?(?:\s+nulls\s+(first|last))?\s*$", re.I)

#: (field, descending, nulls first)
OrderTerm = tuple[str, bool, bool]


def parse_order(order: Any, model: str, columns: Columns) -> list[OrderTerm]:
    """``"write_date desc, id"`` -> terms; empty means Odoo's default ``id``. Unset
    values sort last ascending and first descending, as PostgreSQL does."""
    if not order:
        return [("id", False, False)]
    if not isinstance(order, str):
        raise value_error(f'Invalid "order" specified ({order!r}).')
    terms: list[OrderTerm] = []
    for part in order.split(","):
        match = _ORDER_TERM.match(part)
        if match is None:
            raise value_error(
                f'Invalid "order" specified ({order}). A valid "order" specification is a '
                "comma-separated list of valid field names (optionally followed by asc/desc "
                "for the direction)"
            )
        field, direction, nulls = match.groups()
        if field not in columns:
            raise invalid_field(field, model)
        descending = (direction or "asc").lower() == "desc"
        terms.append((field, descending, nulls.lower() == "first" if nulls else descending))
    return terms


def sort_rows(rows: Sequence[Row], terms: Sequence[OrderTerm]) -> list[Row]:
    """``rows`` ordered by ``terms`` (stable: ties keep their current order)."""
    ordered = list(rows)
    for field, descending, nulls_first in reversed(terms):
        present = [row for row in ordered if row.get(field) is not None]
        missing = [row for row in ordered if row.get(field) is None]
        present.sort(key=lambda row: row[field], reverse=descending)
        ordered = missing + present if nulls_first else present + missing
    return ordered


__all__ = [
    "DATETIME_FORMAT",
    "OPERATORS",
    "compile_domain",
    "operand",
    "parse_date",
    "parse_datetime",
    "parse_order",
    "sort_rows",
]
