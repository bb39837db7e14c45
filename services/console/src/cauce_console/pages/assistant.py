"""The company's AI assist, for its admins: which model writes the summaries, insights
and drafts (an endpoint the platform allows, a model, the company's key: write-only,
shown by its fingerprint), whether a model may read phone numbers and tokens in clear,
whether chats are summarised when they resolve, and what the calls took and cost.
Everything is the conversation service's ``/api/chats/ai/settings`` and ``/usage`` with
the user's token: a role without ``company.manage`` sees that it may not."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response

from cauce_console.backend import Visit, refusal, unless_refused
from cauce_console.bootstrap import ConsoleDep, Guarded, VisitDep

router = APIRouter(prefix="/assistant", include_in_schema=False)


async def _overview(visit: Visit) -> dict[str, Any]:
    settings = await unless_refused(visit.json("conversation", "/api/chats/ai/settings"))
    usage = await unless_refused(visit.json("conversation", "/api/chats/ai/usage", days=30))
    return {"settings": settings, "usage": usage}


@router.get("")
async def assistant(request: Request, console: ConsoleDep, visit: VisitDep) -> Response:
    context = await _overview(visit)
    page = console.page(request, "assistant.html", session=visit.session, **context)
    return visit.commit(page)


@router.post("", dependencies=[Guarded])
async def change(
    request: Request,
    console: ConsoleDep,
    visit: VisitDep,
    endpoint: Annotated[str, Form(max_length=64)] = "",
    model: Annotated[str, Form(max_length=100)] = "",
    api_key: Annotated[str, Form(max_length=512)] = "",
    forget_key: Annotated[bool, Form()] = False,
    allow_unmasked: Annotated[bool, Form()] = False,
    after_resolve: Annotated[bool, Form()] = False,
) -> Response:
    """Save the settings; an empty key keeps the stored one."""
    body: dict[str, Any] = {
        "endpoint": endpoint or None,
        "model": model.strip() or None,
        "forget_key": forget_key,
        "allow_unmasked": allow_unmasked,
        "after_resolve": after_resolve,
    }
    if api_key.strip():
        body["api_key"] = api_key.strip()
    answer = await visit.call("conversation", "PUT", "/api/chats/ai/settings", json=body)
    context = await _overview(visit)
    error = refusal(answer)
    page = console.page(
        request,
        "assistant.html",
        session=visit.session,
        error=error,
        saved=error is None,
        **context,
    )
    if error:
        page.status_code = 422
    return visit.commit(page)
