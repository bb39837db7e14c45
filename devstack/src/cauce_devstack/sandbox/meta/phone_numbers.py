"""The nodes of the Graph fake read by id: a business phone number (what a client's
credentials check reads before it sends anything) or a customer's media."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from cauce_devstack.sandbox.bootstrap import SandboxDep
from cauce_devstack.sandbox.meta.access_tokens import authorise, bearer
from cauce_devstack.sandbox.meta.errors import GraphError
from cauce_devstack.sandbox.meta.media import media_node

router = APIRouter(prefix="/graph", tags=["whatsapp-graph"])


@router.get("/{version}/{phone_number_id}")
async def phone_number(
    version: str, phone_number_id: str, request: Request, sandbox: SandboxDep
) -> Response:
    """The business phone number node, as Meta answers it to a token allowed to read it
    (what a credentials check asks for)."""
    settings = sandbox.settings
    if (media := sandbox.media.get(phone_number_id)) is not None:
        return media_node(settings, request, media)
    try:
        authorise(settings, bearer(request), phone_number_id)
    except GraphError as error:
        return error.response()
    display = (
        settings.default_display_phone_number
        if phone_number_id == settings.default_phone_number_id
        else phone_number_id
    )
    return JSONResponse(
        {
            "id": phone_number_id,
            "display_phone_number": display,
            "verified_name": "cauce sandbox",
            "quality_rating": "GREEN",
        }
    )
