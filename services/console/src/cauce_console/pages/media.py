"""``GET /api/media/...``: a file by the signed link the conversation service put in a
message, fetched from it for the browser (the link's signature is the permission,
checked there; the console adds nothing and keeps the service's safety headers)."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Request, Response

from cauce_console.backend import ServiceDown
from cauce_console.bootstrap import ConsoleDep

router = APIRouter(include_in_schema=False)

#: The conversation's answer headers the browser gets as they are.
_KEPT = (
    "content-type",
    "content-disposition",
    "x-content-type-options",
    "content-security-policy",
    "cache-control",
)


@router.get("/api/media/{company_id}/{sha256}")
async def media(company_id: str, sha256: str, request: Request, console: ConsoleDep) -> Response:
    url = console.backends.url("conversation", f"/api/media/{company_id}/{sha256}")
    try:
        answer = await console.backends.http.get(url, params=dict(request.query_params))
    except httpx.TransportError as exc:
        raise ServiceDown("conversation") from exc
    headers = {k: v for k, v in answer.headers.items() if k.lower() in _KEPT}
    return Response(answer.content, status_code=answer.status_code, headers=headers)
