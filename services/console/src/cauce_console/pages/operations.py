"""The operators' view: the company's channels and their health (credentials ok or
failing, with the provider's error; a live check on demand), the sync to Odoo (pending,
in flight, failed, synced, the lag) and its dead letters (what failed and why, the
vals that would be sent now; replay one or all). Each part is a call to the service
that owns it (notifier's ``/admin/channels``, crm-sync's ``/reports/sync`` and
``/dead-letters``) with the user's token; a part their role may not see says so and
the rest still shows."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from cauce_console.backend import Visit, unless_refused
from cauce_console.bootstrap import ConsoleDep, Guarded, VisitDep

router = APIRouter(prefix="/operations", include_in_schema=False)


async def _overview(visit: Visit) -> dict[str, Any]:
    channels = await unless_refused(visit.json("notifier", "/admin/channels"))
    sync = await unless_refused(visit.json("crm-sync", "/reports/sync"))
    letters = await unless_refused(visit.json("crm-sync", "/dead-letters", limit=50))
    return {
        "channels": channels["items"] if channels else None,
        "sync": sync,
        "letters": letters["items"] if letters else None,
    }


@router.get("")
async def operations(request: Request, console: ConsoleDep, visit: VisitDep) -> Response:
    context = await _overview(visit)
    page = console.page(request, "operations.html", session=visit.session, **context)
    return visit.commit(page)


@router.post("/channels/{account_id}/test", dependencies=[Guarded])
async def test_channel(
    request: Request, console: ConsoleDep, visit: VisitDep, account_id: str
) -> Response:
    """Check the channel's credentials with its provider now."""
    answer = await visit.call("notifier", "POST", f"/admin/channels/{account_id}/test")
    result = answer.json() if answer.content else {}
    page = console.page(request, "_channel_test.html", result=result, status=answer.status_code)
    return visit.commit(page)


@router.get("/dead-letters/{record_id}")
async def dead_letter(
    request: Request, console: ConsoleDep, visit: VisitDep, record_id: int
) -> Response:
    letter = await visit.json("crm-sync", f"/dead-letters/{record_id}")
    return visit.commit(console.page(request, "_dead_letter.html", letter=letter))


@router.post("/dead-letters/{record_id}/replay", dependencies=[Guarded])
async def replay_one(visit: VisitDep, record_id: int) -> Response:
    await visit.call("crm-sync", "POST", f"/dead-letters/{record_id}/replay")
    return visit.commit(Response(status_code=204, headers={"HX-Refresh": "true"}))


@router.post("/dead-letters/replay", dependencies=[Guarded])
async def replay_all(visit: VisitDep) -> Response:
    await visit.call("crm-sync", "POST", "/dead-letters/replay", json={})
    return visit.commit(Response(status_code=204, headers={"HX-Refresh": "true"}))
