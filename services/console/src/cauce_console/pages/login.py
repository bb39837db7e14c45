"""Signing in and out: the e-mail and password go to the identity service's
``/api/auth/login`` (its lockout and answers apply), the tokens into the encrypted
session cookie; signing out revokes the refresh token there."""

from __future__ import annotations

import contextlib
import time
from typing import Annotated

import httpx
from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from cauce_console.backend import ServiceDown
from cauce_console.bootstrap import ConsoleDep, Guarded, language
from cauce_console.i18n import LANGS, words
from cauce_console.sessions import COOKIE, LANG_COOKIE, Session

router = APIRouter()


@router.get("/login", include_in_schema=False)
async def login_page(request: Request, console: ConsoleDep) -> Response:
    return console.page(request, "login.html")


@router.post("/login", include_in_schema=False, dependencies=[Guarded])
async def log_in(
    request: Request,
    console: ConsoleDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
) -> Response:
    t = words(language(request))
    try:
        answer = await console.backends.http.post(
            console.backends.url("identity", "/api/auth/login"),
            json={"email": email, "password": password},
        )
    except httpx.TransportError as exc:
        raise ServiceDown("identity") from exc
    if answer.status_code != 200:
        message = t["locked"] if answer.status_code == 429 else t["wrong_login"]
        return console.page(request, "_login_error.html", message=message)
    tokens = answer.json()
    user = tokens.get("user") or {}
    session = Session(
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        expires_at=time.time() + float(tokens["expires_in"]),
        user=str(user.get("full_name") or user.get("email") or ""),
        user_id=str(user.get("id") or ""),
        company=str(user.get("company_id") or ""),
    )
    response = Response(status_code=204, headers={"HX-Redirect": "/inbox"})
    console.cookie.write(response, session)
    return response


@router.post("/logout", include_in_schema=False, dependencies=[Guarded])
async def log_out(request: Request, console: ConsoleDep) -> Response:
    session = console.cookie.read(request.cookies.get(COOKIE))
    if session is not None:
        # the cookie goes anyway; an unrevoked refresh token expires on its own
        with contextlib.suppress(httpx.TransportError):
            await console.backends.http.post(
                console.backends.url("identity", "/api/auth/logout"),
                json={"refresh_token": session.refresh_token},
                headers={"Authorization": f"Bearer {session.access_token}"},
            )
    response = Response(status_code=204, headers={"HX-Redirect": "/login"})
    console.cookie.clear(response)
    return response


@router.get("/lang/{lang}", include_in_schema=False)
async def choose_language(lang: str, request: Request) -> Response:
    back = request.headers.get("referer") or "/inbox"
    response = RedirectResponse(back if back.startswith("/") or "://" in back else "/", 303)
    if lang in LANGS:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax")
    return response
