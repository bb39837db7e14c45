"""The console app: its pages, its own static files and the browser libraries from npm,
and what a page does when the user is signed out (to the login page) or a service does
not answer (a notice; nothing is lost)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from cauce_console.backend import Refused, ServiceDown, SignedOut
from cauce_console.bootstrap import Console, language
from cauce_console.i18n import words
from cauce_console.pages import assistant, campaigns, inbox, live, login, media, operations
from cauce_console.settings import ConsoleSettings
from cauce_runtime import create_service_app

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
#: What the pages load from ``assets_dir`` (npm packages), by the path they use.
VENDOR = {
    "htmx.min.js": Path("htmx.org/dist/htmx.min.js"),
    "sse.min.js": Path("htmx-ext-sse/dist/sse.min.js"),
}


def create_app(settings: ConsoleSettings | None = None) -> FastAPI:
    settings = settings or ConsoleSettings()
    console = Console.build(settings)

    async def assets_present() -> bool:
        return all((settings.assets_dir / path).is_file() for path in VENDOR.values())

    app = create_service_app(
        settings,
        bus=None,
        wiring=console,
        routers=[
            login.router,
            inbox.router,
            campaigns.router,
            operations.router,
            assistant.router,
            live.router,
            media.router,
        ],
        readiness={"assets": assets_present},
        on_closed=[console.close],
        description="The agents' inbox in a browser, over the services' APIs.",
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_api_route("/vendor/{name}", _vendor(settings), include_in_schema=False)
    app.add_api_route("/", _home, include_in_schema=False)
    app.add_exception_handler(SignedOut, _signed_out)
    app.add_exception_handler(ServiceDown, _service_down(console))
    app.add_exception_handler(Refused, _refused(console))
    return app


def _vendor(settings: ConsoleSettings) -> Callable[[str], Awaitable[Response]]:
    async def vendor(name: str) -> Response:
        path = VENDOR.get(name)
        if path is None or not (settings.assets_dir / path).is_file():
            return Response(status_code=404)
        return FileResponse(
            settings.assets_dir / path,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    return vendor


async def _home() -> Response:
    return RedirectResponse("/inbox", 303)


async def _signed_out(request: Request, exc: Exception) -> Response:
    if request.headers.get("HX-Request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": "/login"})
    return RedirectResponse("/login", 303)


def _service_down(console: Console) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handler(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ServiceDown)
        logger.warning("console page without %s: %s", exc.service, request.url.path)
        message = words(language(request))["service_down"].format(service=exc.service)
        page = console.page(request, "_notice.html", message=message)
        page.status_code = 503
        return page

    return handler


def _refused(console: Console) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handler(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused)
        t = words(language(request))
        message = t["not_allowed"] if exc.status == 403 else t["not_found"]
        page = console.page(request, "_notice.html", message=message)
        page.status_code = exc.status
        return page

    return handler
