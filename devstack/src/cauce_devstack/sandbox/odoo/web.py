"""Odoo's web routes the fake answers: ``/web/version``, and Odoo's 404 page for any
other path, recorded so a wrong URL shows in the outbox."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from cauce_devstack.sandbox.bootstrap import SandboxDep
from cauce_devstack.sandbox.odoo.gate import gate
from cauce_devstack.sandbox.odoo.recording import Call, answer

#: Included after the API routers: its catch-all route must come last.
router = APIRouter(prefix="/odoo", tags=["odoo"])


@router.get("/web/version")
async def web_version(sandbox: SandboxDep) -> Response:
    """``{"version", "version_info"}``, without authentication."""
    state = sandbox.odoo
    call = Call(
        type="web.version", db=state.settings.odoo_db, payload={}, business=False, api="web"
    )
    refusal = await gate(sandbox, call)
    if refusal is not None:
        return refusal
    body = {"version": state.settings.odoo_version, "version_info": state.version_info()}
    return answer(sandbox.outbox, call, JSONResponse(body), refused=False)


@router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def unknown_path(path: str, request: Request, sandbox: SandboxDep) -> Response:
    """Anything else: Odoo's 404 page (recorded, so a wrong URL shows in the outbox)."""
    state = sandbox.odoo
    call = Call(
        type=f"{request.method} /{path}",
        db=state.settings.odoo_db,
        payload={},
        business=False,
        api="web",
    )
    refusal = await gate(sandbox, call)
    if refusal is not None:
        return refusal
    page = HTMLResponse("<h1>404: Not Found</h1>", status_code=404)
    return answer(sandbox.outbox, call, page, refused=True)
