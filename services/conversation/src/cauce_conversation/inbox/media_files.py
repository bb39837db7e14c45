"""``GET /api/media/{company}/{sha256}``: a customer's file, to whoever holds a link a
caller allowed to see the message got (:mod:`cauce_conversation.media_links`).

No ``Authorization`` header (an ``<img src>`` cannot send one): the signature is the
permission, and it names one object of one company for a few minutes. The answer keeps
the browser from running what it got: the stored type, ``nosniff``, a sandboxing CSP,
and documents as attachments.
"""

from __future__ import annotations

import time
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import StringConstraints

from cauce_contracts.identity import CompanyId
from cauce_conversation.bootstrap import ConversationDep
from cauce_conversation.inbox.unavailable import UNAVAILABLE_RESPONSE, unavailable_as_503

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
#: Shown in the browser; anything else is downloaded.
_INLINE = ("image/", "audio/", "video/")

router = APIRouter(
    prefix="/api/media",
    tags=["media"],
    dependencies=[Depends(unavailable_as_503)],
    responses={**UNAVAILABLE_RESPONSE, 403: {"description": "a forged or expired link"}},
)


@router.get("/{company_id}/{sha256}", response_class=Response)
async def media_file(
    service: ConversationDep,
    company_id: CompanyId,
    sha256: Sha256,
    expires: Annotated[int, Query()],
    signature: Annotated[str, Query(max_length=128)],
) -> Response:
    name = f"{company_id}/{sha256}"
    if not service.media_links.valid(name, expires, signature):
        raise HTTPException(403, "this link is not valid (expired or not ours)")
    found = await service.files.get(name)
    if found is None:
        raise HTTPException(404, "no such file")
    file = found.file
    inline = file.content_type.startswith(_INLINE)
    disposition = content_disposition("inline" if inline else "attachment", file.filename)
    return Response(
        found.data,
        media_type=file.content_type,
        headers={
            "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cache-Control": f"private, max-age={max(0, expires - int(time.time()))}",
        },
    )


def content_disposition(kind: str, filename: str | None) -> str:
    """``kind`` with the customer's file name, as RFC 6266 says: an ASCII ``filename``
    for old clients and the exact name as UTF-8 in ``filename*``.

    The name is the sender's: only its last path segment is kept and control
    characters are dropped, so it can neither split the header nor name a directory.
    """
    name = "".join(c for c in filename or "" if c.isprintable())
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()[:200]
    if not name or name in {".", ".."}:
        return kind
    ascii_name = "".join(c if c.isascii() and c not in '"\\' else "_" for c in name)
    if ascii_name == name:
        return f'{kind}; filename="{name}"'
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
