"""``GET /l/{code}``: where a short link leads, with the click recorded.

Public on purpose (customers open it from WhatsApp): the code is the only input, a
fixed-length token checked by its shape before any lookup. WhatsApp and other apps
fetch a link to draw its preview as soon as the message arrives; those fetches (known
preview user agents, and ``HEAD``) are redirected but not counted, so a campaign's
``clicked`` counts people, not previews.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from cauce_notifier.bootstrap import NotifierDep
from cauce_notifier.links.shortener import CODE_CHARS
from cauce_runtime import problem_response

router = APIRouter(tags=["short links"])

#: User agents of link-preview fetchers (WhatsApp's own, Meta's crawler, other apps).
PREVIEW_AGENTS = re.compile(
    r"whatsapp|facebookexternalhit|facebot|telegrambot|slackbot|twitterbot|discordbot"
    r"|linkedinbot|skypeuripreview|googlebot|bingbot",
    re.IGNORECASE,
)
#: A code's shape; anything else is no link, answered without a lookup.
CODE = re.compile(rf"[A-Za-z0-9_-]{{{CODE_CHARS}}}")


@router.api_route(
    "/l/{code}",
    methods=["GET", "HEAD"],
    status_code=302,
    summary="Open a short link (redirects; a person's click is counted)",
    response_model=None,
    responses={302: {"description": "to the link's target"}, 404: {"description": "no link"}},
)
async def open_short_link(notifier: NotifierDep, request: Request, code: str) -> Response:
    if notifier.links is None or not CODE.fullmatch(code):
        return problem_response(404, detail="no such link")
    agent = request.headers.get("user-agent", "")
    counted = request.method == "GET" and not PREVIEW_AGENTS.search(agent)
    target = await notifier.links.store.follow(code, count=counted)
    if target is None:
        return problem_response(404, detail="no such link")
    return RedirectResponse(
        target,
        status_code=302,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )
