"""The shapes of successful Odoo answers, shared by both API styles.

An answer of the wrong shape is :class:`~cauce_crm_sync.odoo.errors.OdooOutcomeUnknown`
(Odoo answered 200, so it may have carried the call out).
"""

from __future__ import annotations

from typing import Any

from cauce_crm_sync.odoo.classify import unreadable
from cauce_crm_sync.odoo.errors import OdooRejected


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def created_ids(result: Any, count: int) -> list[int]:
    """``create``'s new ids, one per vals in order (a single id for a single record is
    accepted too: ``create`` with a dict answers an int)."""
    if count == 1 and _is_id(result):
        return [result]
    if isinstance(result, list) and len(result) == count and all(_is_id(i) for i in result):
        return result
    raise unreadable(200, f"Odoo's create answer is not {count} id(s)")


def id_list(result: Any) -> list[int]:
    if isinstance(result, list) and all(_is_id(i) for i in result):
        return result
    raise unreadable(200, "Odoo's answer is not a list of ids")


def record_list(result: Any) -> list[dict[str, Any]]:
    if isinstance(result, list) and all(isinstance(r, dict) for r in result):
        return result
    raise unreadable(200, "Odoo's answer is not a list of records")


def mapping(result: Any) -> dict[str, Any]:
    if isinstance(result, dict):
        return result
    raise unreadable(200, "Odoo's answer is not an object")


def loaded_ids(result: Any, count: int) -> list[int]:
    """``load``'s ids, one per row in order. Odoo reports bad rows in the *result*
    (``ids: false`` and ``messages``), not as an error: those become
    :class:`OdooRejected` (nothing was changed: ``load`` is all or nothing)."""
    if not isinstance(result, dict):
        raise unreadable(200, "Odoo's load answer is not an object")
    errors = [
        m for m in result.get("messages") or [] if isinstance(m, dict) and m.get("type") == "error"
    ]
    if errors or result.get("ids") is False:
        first = errors[0] if errors else {}
        where = f" (row {first.get('record')}, field {first.get('field')!r})" if first else ""
        raise OdooRejected(
            f"{first.get('message', 'load refused the rows')}{where}"[:300],
            code="odoo.exceptions.ValidationError",
        )
    ids = result.get("ids")
    if isinstance(ids, list) and len(ids) == count and all(_is_id(i) for i in ids):
        return ids
    raise unreadable(200, f"Odoo's load answer is not {count} id(s)")
