"""The agents' inbox: the chat list (filters, counts, a change to many chats at once), a
chat (history with files, voice notes, videos and stickers, delivery ticks; reply with
text, a quick reply, a file or one of the company's stickers; private notes) and the
chat's actions (assign to me, move to a team, resolve or reopen, snooze until the
customer replies, pin, labels). Every page and action is a call to the conversation
service's ``/api/chats`` with the user's token: what they may see and do is what their
role allows there.

Pages are HTML fragments swapped in by htmx; the list and the open chat refresh when
the live stream (:mod:`.live`) says they changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile

from cauce_console.backend import ServiceDown, Visit, refusal
from cauce_console.bootstrap import ConsoleDep, Guarded, VisitDep

router = APIRouter(prefix="/inbox", include_in_schema=False)

View = Literal["all", "mine", "unassigned"]
Status = Literal["open", "pending", "snoozed", "resolved"]
WINDOW = timedelta(hours=24)
#: The team that takes the chats no team was named for (the conversation's default).
DEFAULT_TEAM = "general"


async def chat_list(visit: Visit, view: View, status: Status | None) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": 50}
    if status:
        params["status"] = status
    if view == "mine":
        params["mine"] = "true"
    elif view == "unassigned":
        params["unassigned"] = "true"
    page: dict[str, Any] = await visit.json("conversation", "/api/chats", **params)
    return {"chats": page["items"], "counts": page["counts"], "view": view, "status": status}


async def chat_view(visit: Visit, chat_id: str) -> dict[str, Any]:
    chat = await visit.json("conversation", f"/api/chats/{chat_id}")
    messages = await visit.json("conversation", f"/api/chats/messages/{chat_id}", limit=100)
    replies = await visit.json("conversation", "/api/quick-replies")
    last = chat.get("last_inbound_at")
    window_open = last is None or (datetime.now(UTC) - datetime.fromisoformat(last) < WINDOW)
    templates = (
        [] if window_open else await visit.json("notifier", "/api/v1/templates", status="APPROVED")
    )
    teams = {DEFAULT_TEAM, *(team["name"] for team in await _listed(visit, "/api/teams"))}
    return {
        "chat": chat,
        "messages": messages["items"],
        "quick_replies": replies,
        "window_open": window_open,
        "templates": templates,
        "teams": sorted(teams),
        "me": visit.session.user,
    }


async def composer_view(visit: Visit) -> dict[str, Any]:
    """What the reply box offers besides text: the company's stickers (none: no picker)."""
    return {"stickers": await _listed(visit, "/api/companies/stickers")}


async def _listed(visit: Visit, path: str) -> list[Any]:
    """A list the conversation service may not show this role: empty then (the page
    still loads; the action it would offer is refused there anyway)."""
    answer = await visit.call("conversation", "GET", path)
    if answer.status_code >= 500:
        raise ServiceDown("conversation")
    listed = answer.json() if answer.status_code == 200 else []
    return listed if isinstance(listed, list) else []


@dataclass(frozen=True)
class Listing:
    """Which chats the list shows, and which one is open (the page's query)."""

    view: View = "all"
    status: Status | None = None
    chat: Annotated[str | None, Query(max_length=64)] = None


ListingDep = Annotated[Listing, Depends()]


@router.get("")
async def inbox(
    request: Request, console: ConsoleDep, visit: VisitDep, listing: ListingDep
) -> Response:
    context = await chat_list(visit, listing.view, listing.status)
    if listing.chat:
        context.update(await chat_view(visit, listing.chat))
        context.update(await composer_view(visit))
    page = console.page(
        request, "inbox.html", session=visit.session, selected=listing.chat, **context
    )
    return visit.commit(page)


@router.get("/list")
async def list_fragment(
    request: Request,
    console: ConsoleDep,
    visit: VisitDep,
    listing: ListingDep,
    picked: Annotated[str, Query(max_length=40_000)] = "",
) -> Response:
    """The list again (the live stream says it changed); the chats ticked for a change
    to many (``picked``, comma-separated) stay ticked."""
    context = await chat_list(visit, listing.view, listing.status)
    ticked = {chat_id for chat_id in picked.split(",") if chat_id}
    page = console.page(request, "_chat_list.html", selected=listing.chat, picked=ticked, **context)
    return visit.commit(page)


BulkAction = Literal["assign_me", "resolve", "label"]


@dataclass(frozen=True)
class BulkOutcome:
    """What a change to many chats did: how many changed, how many did not (unknown,
    gone from the caller's sight), and why the service refused it when it did."""

    updated: int = 0
    failed: int = 0
    error: str | None = None
    #: The words key of a mistake in the request itself (nothing was sent).
    problem: str | None = None


def _bulk_body(action: BulkAction, chat_ids: list[str], label: str, me: str | None) -> Any:
    match action:
        case "assign_me":
            return {"chat_ids": chat_ids, "action": "assign", "assignee": me}
        case "resolve":
            return {"chat_ids": chat_ids, "action": "status", "status": "resolved"}
        case _:
            return {"chat_ids": chat_ids, "action": "labels", "add": [label]}


async def _bulk(visit: Visit, action: BulkAction, chat_ids: list[str], label: str) -> BulkOutcome:
    body = _bulk_body(action, chat_ids, label, visit.session.user_id or None)
    answer = await visit.call("conversation", "POST", "/api/chats/bulk", json=body)
    if answer.status_code != 200:
        return BulkOutcome(failed=len(chat_ids), error=refusal(answer))
    result = answer.json()
    return BulkOutcome(len(result["updated"]), len(result["not_found"]))


@router.post("/bulk", dependencies=[Guarded])
async def bulk(
    request: Request,
    console: ConsoleDep,
    visit: VisitDep,
    action: Annotated[BulkAction, Form()],
    chat_ids: Annotated[list[str] | None, Form(max_length=500)] = None,
    label: Annotated[str, Form(max_length=64)] = "",
    view: Annotated[View, Form()] = "all",
    status: Annotated[Status | Literal[""], Form()] = "",
    chat: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """One change to the chats ticked in the list (assign them to me, resolve them, add
    a label): the list again, and how many changed and how many did not (out of band,
    in the bar's status line). Nothing done is a 422: the bar keeps the label typed."""
    ids = list(dict.fromkeys(chat_id for chat_id in chat_ids or [] if chat_id))
    if not ids:
        outcome = BulkOutcome(problem="bulk_none")
    elif action == "label" and not label.strip():
        outcome = BulkOutcome(problem="bulk_no_label")
    else:
        outcome = await _bulk(visit, action, ids, label.strip())
    context = await chat_list(visit, view, status or None)
    # Nothing done: still ticked, the label still typed (to fix and send again).
    undone = bool(outcome.problem or (outcome.error and not outcome.updated))
    picked = set(ids) if undone else set()
    page = console.page(
        request,
        "_chat_list.html",
        selected=chat or None,
        picked=picked,
        bulk=outcome,
        **context,
    )
    if undone:
        page.status_code = 422  # swapped (console.js), and the bar keeps its label
    return visit.commit(page)


@router.get("/chats/{chat_id}")
async def chat_fragment(
    request: Request, console: ConsoleDep, visit: VisitDep, chat_id: str
) -> Response:
    try:
        context = await chat_view(visit, chat_id)
    except LookupError:
        return console.page(request, "_gone.html")
    context.update(await composer_view(visit))
    return visit.commit(console.page(request, "_chat.html", **context))


@router.get("/chats/{chat_id}/live")
async def live_fragment(
    request: Request, console: ConsoleDep, visit: VisitDep, chat_id: str
) -> Response:
    """The chat's header and messages (what changes live; the reply box stays)."""
    try:
        context = await chat_view(visit, chat_id)
    except LookupError:
        return console.page(request, "_gone.html")
    return visit.commit(console.page(request, "_chat_live.html", **context))


async def _after(
    request: Request, console: ConsoleDep, visit: Visit, chat_id: str, error: str | None
) -> Response:
    """The chat's live part again, with the refusal shown when there was one (a
    refused reply keeps the reply box's text: the form resets on success only)."""
    context = await chat_view(visit, chat_id)
    page = console.page(request, "_chat_live.html", error=error, **context)
    if error:
        page.status_code = 422  # swapped (console.js), and the reply box keeps its text
    return visit.commit(page)


async def _change(
    request: Request,
    console: ConsoleDep,
    visit: Visit,
    chat_id: str,
    path: str,
    body: dict[str, Any],
) -> Response:
    """POST ``body`` to the conversation's ``path`` for this chat, then show the chat
    with the refusal, if any (every action of the chat pane)."""
    answer = await visit.call("conversation", "POST", path, json=body)
    return await _after(request, console, visit, chat_id, refusal(answer))


@router.post("/chats/{chat_id}/reply", dependencies=[Guarded])
async def reply(
    request: Request,
    console: ConsoleDep,
    visit: VisitDep,
    chat_id: str,
    text: Annotated[str, Form(max_length=4096)] = "",
    quick_reply: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    body = {"quick_reply": quick_reply} if quick_reply else {"text": text.strip()}
    return await _change(request, console, visit, chat_id, f"/api/chats/messages/{chat_id}", body)


@router.post("/chats/{chat_id}/template", dependencies=[Guarded])
async def send_template(
    request: Request,
    console: ConsoleDep,
    visit: VisitDep,
    chat_id: str,
    template: Annotated[str, Form(max_length=600)],
    variables: Annotated[str, Form(max_length=4096)] = "",
) -> Response:
    """An approved template (``name|language``), its body's variables separated by
    ``|``: the only kind WhatsApp takes 24 hours after the customer last wrote."""
    name, _, language = template.partition("|")
    values = [v.strip() for v in variables.split("|") if v.strip()]
    components = (
        [{"type": "body", "parameters": [{"type": "text", "text": v} for v in values]}]
        if values
        else []
    )
    body = {"template": {"name": name, "language": language, "components": components}}
    return await _change(request, console, visit, chat_id, f"/api/chats/messages/{chat_id}", body)


@router.post("/chats/{chat_id}/file", dependencies=[Guarded])
async def send_file(
    request: Request,
    console: ConsoleDep,
    visit: VisitDep,
    chat_id: str,
    file: Annotated[UploadFile, File()],
    caption: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    data = await file.read()
    upload = await visit.call(
        "conversation",
        "POST",
        "/api/chats/media",
        files={"file": (file.filename or "file", data, file.content_type or "")},
    )
    if upload.status_code != 201:
        return await _after(request, console, visit, chat_id, refusal(upload))
    media: dict[str, Any] = {"id": upload.json()["id"]}
    if caption.strip():
        media["caption"] = caption.strip()
    return await _change(
        request, console, visit, chat_id, f"/api/chats/messages/{chat_id}", {"media": media}
    )


@router.post("/chats/{chat_id}/sticker", dependencies=[Guarded])
async def send_sticker(
    request: Request,
    console: ConsoleDep,
    visit: VisitDep,
    chat_id: str,
    sticker: Annotated[str, Form(min_length=1, max_length=64)],
) -> Response:
    """One of the company's stickers (by its id) to the customer."""
    return await _change(
        request, console, visit, chat_id, f"/api/chats/messages/{chat_id}", {"sticker": sticker}
    )


@router.post("/chats/{chat_id}/note", dependencies=[Guarded])
async def note(
    request: Request,
    console: ConsoleDep,
    visit: VisitDep,
    chat_id: str,
    text: Annotated[str, Form(min_length=1, max_length=4096)],
) -> Response:
    return await _change(
        request, console, visit, chat_id, "/api/chats/notes", {"chat_id": chat_id, "text": text}
    )


Action = Literal["assign_me", "unassign", "resolve", "reopen", "snooze", "unsnooze", "pin", "unpin"]


def _action_call(action: Action, chat_id: str, user_id: str | None) -> tuple[str, dict[str, Any]]:
    ref: dict[str, Any] = {"chat_id": chat_id}
    match action:
        case "assign_me":
            return "/api/chats/assign", {**ref, "assignee": user_id}
        case "unassign":
            return "/api/chats/assign", {**ref, "assignee": None}
        case "resolve":
            return "/api/chats/status", {**ref, "status": "resolved"}
        case "reopen":
            return "/api/chats/status", {**ref, "status": "open"}
        case "snooze":
            return "/api/chats/snooze", {**ref, "unsnooze_on_customer_reply": True}
        case _:
            return f"/api/chats/{action}", ref


@router.post("/chats/{chat_id}/actions/{action}", dependencies=[Guarded])
async def act(
    request: Request, console: ConsoleDep, visit: VisitDep, chat_id: str, action: Action
) -> Response:
    path, body = _action_call(action, chat_id, visit.session.user_id or None)
    return await _change(request, console, visit, chat_id, path, body)


@router.post("/chats/{chat_id}/team", dependencies=[Guarded])
async def move_to_team(
    request: Request,
    console: ConsoleDep,
    visit: VisitDep,
    chat_id: str,
    team: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """The chat to a team's queue (empty: back to the default team's)."""
    body = {"chat_id": chat_id, "team": team.strip() or None}
    return await _change(request, console, visit, chat_id, "/api/chats/team", body)


@router.post("/chats/{chat_id}/snooze-until", dependencies=[Guarded])
async def snooze_until(
    request: Request,
    console: ConsoleDep,
    visit: VisitDep,
    chat_id: str,
    until: Annotated[str, Form(max_length=40)],
    offset_min: Annotated[int, Form(ge=-840, le=840)] = 0,
) -> Response:
    """Snooze until a local time (the browser's ``datetime-local`` and its UTC offset in
    minutes), or until the customer replies, whichever comes first."""
    try:
        local = datetime.fromisoformat(until)
    except ValueError:
        local = None
    if local is None or local.tzinfo is not None:
        error = "until must be a local date and time"
        return await _after(request, console, visit, chat_id, error)
    aware = local.replace(tzinfo=timezone(timedelta(minutes=offset_min)))
    body = {"chat_id": chat_id, "until": aware.isoformat(), "unsnooze_on_customer_reply": True}
    return await _change(request, console, visit, chat_id, "/api/chats/snooze", body)


AssistKind = Literal["summary", "insights", "draft"]
_ASSIST_PATHS: dict[str, str] = {
    "summary": "/api/chats/ai/summaries/generate",
    "insights": "/api/chats/ai/insights",
    "draft": "/api/chats/ai/assist-draft",
}


@router.post("/chats/{chat_id}/assist/{kind}", dependencies=[Guarded])
async def assist(
    request: Request, console: ConsoleDep, visit: VisitDep, chat_id: str, kind: AssistKind
) -> Response:
    """A summary, insights or a draft reply for this chat (the conversation's AI assist;
    the panel says which provider made it)."""
    answer = await visit.call(
        "conversation", "POST", _ASSIST_PATHS[kind], json={"chat_id": chat_id}
    )
    result = answer.json() if answer.status_code == 200 else None
    page = console.page(request, "_assist.html", result=result, error=refusal(answer))
    return visit.commit(page)


@router.post("/chats/{chat_id}/labels", dependencies=[Guarded])
async def label(
    request: Request,
    console: ConsoleDep,
    visit: VisitDep,
    chat_id: str,
    add: Annotated[str, Form(max_length=64)] = "",
    remove: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    body = {"chat_id": chat_id, "add": [add] if add else [], "remove": [remove] if remove else []}
    return await _change(request, console, visit, chat_id, "/api/chats/labels", body)
