"""A WhatsApp Business Account's ``message_templates`` edge on the Graph fake: what a
campaign reads to know which templates it may send, with Meta's paging and filters."""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from cauce_devstack.sandbox.bootstrap import SandboxDep
from cauce_devstack.sandbox.meta.access_tokens import bearer
from cauce_devstack.sandbox.meta.accounts import phone_numbers_of, waba_ids
from cauce_devstack.sandbox.meta.errors import (
    CODE_INVALID_PARAMETER,
    GraphError,
    invalid_parameter,
    invalid_token,
    missing_token,
    unknown_object,
)
from cauce_devstack.sandbox.meta.templates import TEMPLATE_STATUSES, KnownTemplate

if TYPE_CHECKING:
    from cauce_devstack.sandbox.settings import SandboxSettings

router = APIRouter(prefix="/graph", tags=["whatsapp-graph"])

DEFAULT_LIMIT = 25
#: What Meta returns for each template when the request names no ``fields``.
DEFAULT_FIELDS = ("name", "parameter_format", "components", "language", "status", "category")
FIELDS = frozenset(
    {
        "id",
        "name",
        "language",
        "status",
        "category",
        "previous_category",
        "parameter_format",
        "components",
        "quality_score",
        "rejected_reason",
    }
)
_CURSOR_PREFIX = b"sandbox-template:"


def authorise_waba(settings: SandboxSettings, token: str | None, waba_id: str) -> None:
    """Meta's checks for a WABA edge: a token at all (190), a token Meta issued (190),
    and one issued for a number of this WABA (else the WABA is, to this token, an
    unknown object: 100, subcode 33), so a client mixing up accounts fails here."""
    if token is None:
        raise missing_token()
    known = {pid: secret.get_secret_value() for pid, secret in settings.graph_tokens.items()}
    if not any(hmac.compare_digest(token, value) for value in known.values()):
        raise invalid_token()
    if waba_id not in waba_ids(settings):
        raise unknown_object(waba_id, "get")
    own = [known[pid] for pid in phone_numbers_of(settings, waba_id) if pid in known]
    if not any(hmac.compare_digest(token, value) for value in own):
        raise unknown_object(waba_id, "get")


def paging_cursor(template: KnownTemplate) -> str:
    """Meta's opaque ``paging.cursors`` value for a template (the fake's own format)."""
    return base64.urlsafe_b64encode(_CURSOR_PREFIX + template.id.encode()).decode().rstrip("=")


def _read_paging_cursor(cursor: str, name: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (ValueError, binascii.Error):
        raw = b""
    if not raw.startswith(_CURSOR_PREFIX):
        raise invalid_parameter(f"The {name} cursor is not valid.")
    return raw.removeprefix(_CURSOR_PREFIX).decode(errors="replace")


def _csv(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _fields(value: str | None) -> tuple[str, ...]:
    requested = _csv(value)
    if not requested:
        return DEFAULT_FIELDS
    for field in requested:
        if field not in FIELDS:
            raise GraphError(
                400,
                CODE_INVALID_PARAMETER,
                f"(#100) Tried accessing nonexisting field ({field}) on node type "
                "(WhatsAppBusinessHSM)",
            )
    return tuple(dict.fromkeys(requested))


def _limit(value: str | None) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if not value.isdigit() or int(value) < 1:
        raise invalid_parameter("limit must be a positive integer.")
    return int(value)


def _matches(template: KnownTemplate, query: dict[str, str]) -> bool:
    statuses = [s.upper() for s in _csv(query.get("status"))]
    for status in statuses:
        if status not in TEMPLATE_STATUSES:
            raise invalid_parameter(f"status must be one of {', '.join(TEMPLATE_STATUSES)}.")
    categories = [c.upper() for c in _csv(query.get("category"))]
    name = (query.get("name") or "").lower()
    language = _csv(query.get("language"))
    return (
        (not statuses or template.status in statuses)
        and (not categories or template.category in categories)
        and (not language or template.language in language)
        and name in template.name.lower()
    )


def _item(template: KnownTemplate, fields: tuple[str, ...]) -> dict[str, Any]:
    shape = template.meta_shape()
    item = {field: shape[field] for field in fields if field in shape}
    item["id"] = template.id  # Graph always returns a node's id
    return item


@router.get(
    "/{version}/{waba_id}/message_templates",
    summary="List a WhatsApp Business Account's message templates",
)
async def list_message_templates(
    version: str, waba_id: str, request: Request, sandbox: SandboxDep
) -> Response:
    """The WABA's templates in Meta's shape: ``{"data": [...], "paging": {"cursors":
    {"before", "after"}, "next", "previous"}}`` (``next`` / ``previous`` only when there
    is such a page; no ``paging`` when ``data`` is empty).

    The bearer token is checked as on the messages endpoint (401, code 190) and must be
    one issued for a number of this WABA; an unknown WABA, or one the token may not
    read, is Meta's unknown object (400, code 100, subcode 33). Query parameters as on
    Meta: ``limit`` (page size, default 25), ``after`` / ``before`` (cursors from
    ``paging``), ``fields`` (comma-separated; default ``name, parameter_format,
    components, language, status, category`` and always ``id``; also
    ``quality_score``, ``rejected_reason``, ``previous_category``; an unknown field is
    code 100), and the filters ``status`` (comma-separated), ``category``, ``language``
    and ``name`` (a case-insensitive part of the name). Templates change at run time
    through ``POST /sandbox/meta/templates/{name}/{language}``."""
    settings = sandbox.settings
    try:
        authorise_waba(settings, bearer(request), waba_id)
        query = dict(request.query_params)
        fields = _fields(query.get("fields"))
        limit = _limit(query.get("limit"))
        listed = [t for t in sandbox.graph_templates.templates(waba_id) if _matches(t, query)]
        start, end = 0, len(listed)
        ids = [t.id for t in listed]
        if query.get("after"):
            after = _read_paging_cursor(query["after"], "after")
            start = ids.index(after) + 1 if after in ids else len(listed)
            end = min(start + limit, len(listed))
        elif query.get("before"):
            before = _read_paging_cursor(query["before"], "before")
            end = ids.index(before) if before in ids else 0
            start = max(end - limit, 0)
        else:
            end = min(limit, len(listed))
    except GraphError as error:
        return error.response()

    page = listed[start:end]
    if not page:
        return JSONResponse({"data": []})
    paging: dict[str, Any] = {
        "cursors": {"before": paging_cursor(page[0]), "after": paging_cursor(page[-1])}
    }
    if end < len(listed):
        paging["next"] = str(
            request.url.remove_query_params("before").include_query_params(
                after=paging_cursor(page[-1])
            )
        )
    if start > 0:
        paging["previous"] = str(
            request.url.remove_query_params("after").include_query_params(
                before=paging_cursor(page[0])
            )
        )
    return JSONResponse({"data": [_item(t, fields) for t in page], "paging": paging})
