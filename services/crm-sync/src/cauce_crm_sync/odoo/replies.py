"""The shapes of successful Odoo answers, shared by both API styles.

An answer of the wrong shape is :class:`~cauce_crm_sync.odoo.errors.OdooUnavailable`
with ``maybe_applied`` (Odoo answered 200, so it may have carried the call out).
"""

from __future__ import annotations

from typing import Any

from cauce_crm_sync.odoo.classify import unreadable


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
