"""The ORM methods the fake Odoo serves, for both API styles, with Odoo's signatures:
arguments are bound against them, so a wrong call fails with a ``builtins.TypeError``
as it would in Odoo.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from cauce_devstack.sandbox.odoo import load as odoo_load
from cauce_devstack.sandbox.odoo.errors import (
    ACCESS_ERROR,
    ATTRIBUTE_ERROR,
    OdooError,
    type_error,
)
from cauce_devstack.sandbox.odoo.records import OdooRecords

#: Methods that act on records (``ids`` first).
RECORD_METHODS = frozenset({"write", "read", "unlink"})
METHODS = frozenset({"create", "search", "search_read", "search_count", "load"}) | RECORD_METHODS


class ModelMethods:
    """One model's remotely callable methods."""

    def __init__(self, records: OdooRecords, model: str) -> None:
        self.records = records
        self.model = model

    def create(self, vals_list: Any) -> int | list[int]:
        """A dict -> its id; a list of dicts -> their ids, in order."""
        if isinstance(vals_list, dict):
            return self.records.create(self.model, [vals_list])[0]
        if not isinstance(vals_list, list):
            raise type_error(f"create() expects a dict or a list of dicts, not {vals_list!r}")
        return self.records.create(self.model, vals_list)

    def write(self, ids: Any, vals: Any) -> bool:
        self.records.write(self.model, ids, vals)
        return True

    def search(
        self, domain: Any, offset: Any = 0, limit: Any = None, order: Any = None
    ) -> list[int]:
        return self.records.search(self.model, domain, offset, limit, order)

    def search_read(
        self,
        domain: Any = None,
        fields: Any = None,
        offset: Any = 0,
        limit: Any = None,
        order: Any = None,
        load: Any = "_classic_read",
    ) -> list[dict[str, Any]]:
        # Validate the fields before searching, as Odoo does.
        self.records.model(self.model).field_names(fields)
        ids = self.records.search(self.model, domain, offset, limit, order)
        return self.records.read(self.model, ids, fields)

    def read(
        self, ids: Any, fields: Any = None, load: Any = "_classic_read"
    ) -> list[dict[str, Any]]:
        return self.records.read(self.model, ids, fields)

    def unlink(self, ids: Any) -> bool:
        self.records.unlink(self.model, ids)
        return True

    def search_count(self, domain: Any, limit: Any = None) -> int:
        return len(self.records.search(self.model, domain, limit=limit))

    def load(self, fields: Any, data: Any) -> dict[str, Any]:
        """Import rows: ``{"ids", "messages", "nextrow"}``, rows' problems included
        (``ids: false``) rather than raised."""
        return odoo_load.load(self.records, self.model, fields, data)


def _method(records: OdooRecords, model: Any, method: Any, *, json2: bool) -> Callable[..., Any]:
    """The bound method, or Odoo's refusal (model first, then method)."""
    records.model(model)
    if not isinstance(method, str):
        raise type_error(f"method must be a string, not {method!r}")
    if method.startswith("_"):
        message = f"Private methods (such as '{method}') cannot be called remotely."
        raise OdooError(ACCESS_ERROR, message)
    if method not in METHODS:
        message = f"The method '{method}' does not exist on the model '{model}'"
        # JSON-2 answers 404 (no such endpoint); the name stays AttributeError, so it
        # cannot be taken for the NotFound of an unknown database.
        raise OdooError(ATTRIBUTE_ERROR, message, status=404 if json2 else None)
    bound: Callable[..., Any] = getattr(ModelMethods(records, model), method)
    return bound


def _call(fn: Callable[..., Any], label: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    try:
        inspect.signature(fn).bind(*args, **kwargs)
    except TypeError as exc:
        raise type_error(f"{label}() {exc}") from None
    return fn(*args, **kwargs)


def call_kw(records: OdooRecords, model: Any, method: Any, args: Any, kwargs: Any) -> Any:
    """``object.execute_kw``'s ``model, method, args, kwargs``."""
    fn = _method(records, model, method, json2=False)
    if not isinstance(args, list):
        raise type_error(f"execute_kw() args must be a list, not {args!r}")
    if kwargs is None:
        kwargs = {}
    if not isinstance(kwargs, dict):
        raise type_error(f"execute_kw() kwargs must be a dict, not {kwargs!r}")
    named = {key: value for key, value in kwargs.items() if key != "context"}
    return _call(fn, f"{model}.{method}", args, named)


def call_json2(records: OdooRecords, model: str, method: str, params: dict[str, Any]) -> Any:
    """``POST /json/2/{model}/{method}`` with named ``params`` (``ids`` for records)."""
    fn = _method(records, model, method, json2=True)
    named = {key: value for key, value in params.items() if key not in ("context", "ids")}
    if method in RECORD_METHODS:
        named["ids"] = params.get("ids") or []
    result = _call(fn, f"{model}.{method}", [], named)
    # JSON-2 answers a created recordset as its list of ids, whatever was sent.
    return [result] if method == "create" and isinstance(result, int) else result


__all__ = ["METHODS", "RECORD_METHODS", "ModelMethods", "call_json2", "call_kw"]
