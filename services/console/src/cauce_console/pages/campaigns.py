"""Campaigns: the company's campaigns, a new one from an approved template, its
recipients from a CSV (accepted and rejected rows shown), start / pause / resume /
cancel, and its progress live (sent, delivered, read and failed over time as a chart,
failures by code, the cost estimate). Every page and action is a call to the
notifier's ``/api/v1/campaigns`` and ``/api/v1/templates`` with the user's token: what
the user sees and may do is what their role allows there (``campaigns.read`` /
``campaigns.manage``)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Request, Response, UploadFile

from cauce_console.backend import Visit, refusal
from cauce_console.bootstrap import ConsoleDep, Guarded, VisitDep

router = APIRouter(prefix="/campaigns", include_in_schema=False)

Action = Literal["start", "pause", "resume", "cancel"]


async def _overview(visit: Visit) -> dict[str, Any]:
    page = await visit.json("notifier", "/api/v1/campaigns", limit=50)
    templates = await visit.json("notifier", "/api/v1/templates", status="APPROVED")
    return {"campaigns": page["items"], "templates": templates}


async def _detail(visit: Visit, campaign_id: uuid.UUID) -> dict[str, Any]:
    campaign = await visit.json("notifier", f"/api/v1/campaigns/{campaign_id}")
    stats = await visit.json("notifier", f"/api/v1/campaigns/{campaign_id}/stats")
    return {"campaign": campaign, "stats": stats}


@router.get("")
async def campaigns(request: Request, console: ConsoleDep, visit: VisitDep) -> Response:
    context = await _overview(visit)
    return visit.commit(console.page(request, "campaigns.html", session=visit.session, **context))


@router.post("", dependencies=[Guarded])
async def create(
    request: Request,
    console: ConsoleDep,
    visit: VisitDep,
    name: Annotated[str, Form(min_length=1, max_length=200)],
    template: Annotated[str, Form(max_length=600)],
) -> Response:
    """A draft from ``template`` (``name|language``), then its page."""
    template_name, _, language = template.partition("|")
    body = {"name": name, "template_name": template_name, "template_language": language}
    answer = await visit.call("notifier", "POST", "/api/v1/campaigns", json=body)
    if error := refusal(answer):
        context = await _overview(visit)
        page = console.page(
            request, "campaigns.html", session=visit.session, error=error, **context
        )
        page.status_code = 422
        return visit.commit(page)
    response = Response(
        status_code=204, headers={"HX-Redirect": f"/campaigns/{answer.json()['id']}"}
    )
    return visit.commit(response)


@router.post("/sync-templates", dependencies=[Guarded])
async def sync_templates(visit: VisitDep) -> Response:
    """Read the company's templates from Meta now (the list offers the approved ones)."""
    await visit.call("notifier", "POST", "/api/v1/templates/sync")
    return visit.commit(Response(status_code=204, headers={"HX-Redirect": "/campaigns"}))


@router.get("/{campaign_id}")
async def campaign(
    request: Request, console: ConsoleDep, visit: VisitDep, campaign_id: uuid.UUID
) -> Response:
    context = await _detail(visit, campaign_id)  # another company's: Refused (404)
    page = console.page(request, "campaign.html", session=visit.session, **context)
    return visit.commit(page)


@router.get("/{campaign_id}/figures")
async def figures(
    request: Request, console: ConsoleDep, visit: VisitDep, campaign_id: uuid.UUID
) -> Response:
    """The campaign's state and figures (what changes live)."""
    context = await _detail(visit, campaign_id)
    return visit.commit(console.page(request, "_campaign_figures.html", **context))


@router.get("/{campaign_id}/controls")
async def controls(
    request: Request, console: ConsoleDep, visit: VisitDep, campaign_id: uuid.UUID
) -> Response:
    """The campaign's actions and recipients upload (when its state changed)."""
    context = await _detail(visit, campaign_id)
    return visit.commit(console.page(request, "_campaign_controls.html", **context))


def _controls(request: Request, console: ConsoleDep, visit: Visit, **context: Any) -> Response:
    """The controls after an action; the figures refresh too (``campaign-changed``)."""
    page = console.page(request, "_campaign_controls.html", **context)
    page.headers["HX-Trigger"] = "campaign-changed"
    return visit.commit(page)


@router.post("/{campaign_id}/recipients", dependencies=[Guarded])
async def upload(
    request: Request,
    console: ConsoleDep,
    visit: VisitDep,
    campaign_id: uuid.UUID,
    file: Annotated[UploadFile, File()],
) -> Response:
    data = await file.read()
    answer = await visit.call(
        "notifier",
        "POST",
        f"/api/v1/campaigns/{campaign_id}/upload-recipients",
        files={"file": (file.filename or "recipients.csv", data, "text/csv")},
    )
    loaded = answer.json() if answer.status_code == 200 else None
    context = await _detail(visit, campaign_id)
    return _controls(request, console, visit, loaded=loaded, error=refusal(answer), **context)


@router.post("/{campaign_id}/{action}", dependencies=[Guarded])
async def act(
    request: Request, console: ConsoleDep, visit: VisitDep, campaign_id: uuid.UUID, action: Action
) -> Response:
    answer = await visit.call("notifier", "POST", f"/api/v1/campaigns/{campaign_id}/{action}")
    context = await _detail(visit, campaign_id)
    return _controls(request, console, visit, error=refusal(answer), **context)
