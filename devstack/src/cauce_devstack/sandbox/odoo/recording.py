"""What the outbox shows of an Odoo call, and its recording. The Odoo fake records its
own refusals: the generic refusal recorder would keep the JSON-RPC password, and would
not see JSON-RPC errors (HTTP 200 envelopes) as refusals."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from fastapi import Response

if TYPE_CHECKING:
    from cauce_devstack.sandbox.outbox import Outbox

REDACTED = "<redacted>"


@dataclass
class Call:
    """What one request asks, as the outbox shows it (no secrets)."""

    type: str
    db: str
    payload: dict[str, Any]
    business: bool
    api: Literal["jsonrpc", "json2", "web"]
    rpc_id: Any = None


NOT_JSON = object()


def parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw.strip() else None
    except ValueError:
        return NOT_JSON


def payload_of(body: Any, raw: bytes) -> dict[str, Any]:
    if isinstance(body, dict):
        return body
    if body is NOT_JSON:
        # Never keep unparsed text: it may hold a password.
        return {"invalid_json": True, "bytes": len(raw)}
    return {"body": body}


def describe_jsonrpc(body: Any, raw: bytes, default_db: str) -> Call:
    params = body.get("params") if isinstance(body, dict) else None
    params = params if isinstance(params, dict) else {}
    service, method, args = params.get("service"), params.get("method"), params.get("args")
    args = args if isinstance(args, list) else []
    kind = f"{service}.{method}" if service and method else "unknown"
    if service == "object" and len(args) > 4 and isinstance(args[3], str):
        kind = f"{args[3]}.{args[4]}"
    payload = payload_of(body, raw)
    if isinstance(body, dict) and len(args) > 2:
        payload = copy.deepcopy(body)
        payload["params"]["args"][2] = REDACTED
    return Call(
        type=kind,
        db=args[0] if args and isinstance(args[0], str) else default_db,
        payload=payload,
        business=service == "object",
        api="jsonrpc",
        rpc_id=body.get("id") if isinstance(body, dict) else None,
    )


def _body_of(response: Response) -> Any:
    raw = bytes(response.body)
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode("utf-8", "replace")


def answer(
    outbox: Outbox, call: Call, response: Response, *, refused: bool, message_id: str = ""
) -> Response:
    """Record ``call`` in the outbox with what it got, and answer it."""
    outbox.record(
        provider="odoo",
        kind="refused" if refused else "rpc",
        phone_number_id=call.db,
        type=call.type,
        message_id=message_id,
        payload=call.payload,
        status=response.status_code,
        error=_body_of(response) if refused else None,
    )
    return response


def created_ids(call: Call, result: Any) -> str:
    """The ids a ``create`` answered, or those a ``load`` created or updated."""
    if call.type.endswith(".load") and isinstance(result, dict):
        result = result.get("ids") or []
    elif not call.type.endswith(".create"):
        return ""
    ids = result if isinstance(result, list) else [result]
    return ",".join(str(i) for i in ids)


def failed_load(call: Call, result: Any) -> bool:
    """A ``load`` that changed nothing: Odoo answers it as a result, it is a refusal."""
    return call.type.endswith(".load") and isinstance(result, dict) and result.get("ids") is False
