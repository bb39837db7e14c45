"""The console's bootstrap object (settings, the HTTP client to the services, the
session cookie, the templates), and what a page takes from it: the signed-in user's
:class:`~cauce_console.backend.Visit`, their language, the CSRF guard."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Response
from fastapi.templating import Jinja2Templates

from cauce_console.backend import Backends, SignedOut, Visit
from cauce_console.i18n import Lang, lang_of, words
from cauce_console.sessions import COOKIE, LANG_COOKIE, SessionCookie
from cauce_console.settings import ConsoleSettings
from cauce_runtime import traced_http_client, wired

TEMPLATES_DIR = Path(__file__).parent / "templates"


@dataclass
class Console:
    settings: ConsoleSettings
    backends: Backends
    cookie: SessionCookie
    templates: Jinja2Templates

    @classmethod
    def build(cls, settings: ConsoleSettings) -> Console:
        http = traced_http_client(timeout=settings.backend_timeout_s)
        urls = {
            "identity": settings.identity_url,
            "conversation": settings.conversation_url,
            "notifier": settings.notifier_url,
            "crm-sync": settings.crm_sync_url,
        }
        cookie = SessionCookie(
            settings.session_key.get_secret_value(), secure=settings.secure_cookies
        )
        return cls(settings, Backends(http, urls), cookie, Jinja2Templates(TEMPLATES_DIR))

    async def close(self) -> None:
        await self.backends.http.aclose()

    def page(self, request: Request, name: str, **context: Any) -> Response:
        """The template ``name`` in the visitor's language."""
        lang = language(request)
        page: Response = self.templates.TemplateResponse(
            request, name, {"t": words(lang), "lang": lang, **context}
        )
        return page


ConsoleDep = Annotated[Console, Depends(wired(Console))]


def language(request: Request) -> Lang:
    return lang_of(request.cookies.get(LANG_COOKIE))


def visit(request: Request, console: ConsoleDep) -> Visit:
    session = console.cookie.read(request.cookies.get(COOKIE))
    if session is None:
        raise SignedOut
    return Visit(console.backends, console.cookie, session)


VisitDep = Annotated[Visit, Depends(visit)]


def from_console(request: Request) -> None:
    """A state-changing request must come from the console's own pages (htmx sends
    ``HX-Request``; a cross-site form cannot)."""
    if request.headers.get("HX-Request") != "true":
        raise HTTPException(403, "console requests only")


Guarded = Depends(from_console)
