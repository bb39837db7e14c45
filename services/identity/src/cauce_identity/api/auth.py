"""``/api/auth``: login, refresh, logout, password change, who am I; the OAuth 2.0
token endpoint for API keys (client credentials, RFC 6749 §4.4); and the JWKS."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from cauce_identity.api.views import (
    CompanyView,
    LoginRequest,
    LogoutRequest,
    PasswordChange,
    RefreshRequest,
    TokenAnswer,
    UserView,
)
from cauce_identity.bootstrap import Identity, IdentityDep
from cauce_identity.logins import AccountLocked, LoginRefused, RefreshRefused, WeakPassword
from cauce_identity.store import User
from cauce_runtime import BusUnavailable
from cauce_runtime.identity import Caller, CallerDep

router = APIRouter(tags=["auth"])


@router.post("/api/auth/login", response_model=TokenAnswer)
async def log_in(body: LoginRequest, identity: IdentityDep) -> TokenAnswer:
    """E-mail and password for an access token and a refresh token. Wrong e-mail and
    wrong password answer alike (401); repeated failures lock the account (429)."""
    try:
        session = await identity.logins.log_in(body.email, body.password)
    except AccountLocked as exc:
        raise HTTPException(
            429,
            "too many failed logins: try again later",
            headers={"Retry-After": str(max(1, round(exc.retry_after_s)))},
        ) from exc
    except LoginRefused as exc:
        raise HTTPException(401, "wrong e-mail or password") from exc
    return TokenAnswer.of(session)


@router.post("/api/auth/refresh", response_model=TokenAnswer)
async def refresh(body: RefreshRequest, identity: IdentityDep) -> TokenAnswer:
    """A refresh token for a new pair; the one presented is spent. Presenting a spent
    one again revokes the whole session (a stolen token is useless once either side
    used it)."""
    try:
        session = await identity.logins.refresh(body.refresh_token)
    except RefreshRefused as exc:
        raise HTTPException(401, str(exc)) from exc
    except BusUnavailable as exc:
        raise _unavailable() from exc
    return TokenAnswer.of(session)


@router.post("/api/auth/logout", status_code=204)
async def log_out(
    caller: CallerDep, identity: IdentityDep, body: LogoutRequest | None = None
) -> Response:
    """End the session of the access token (and of ``refresh_token``, if given): its
    tokens stop working in every service within moments."""
    try:
        await identity.logins.log_out(caller.session_id, body.refresh_token if body else None)
    except BusUnavailable as exc:
        raise _unavailable() from exc
    return Response(status_code=204)


@router.post("/api/auth/password", status_code=204)
async def change_password(
    body: PasswordChange, caller: CallerDep, identity: IdentityDep
) -> Response:
    """Change the caller's password (the current one proven); every session ends."""
    user = await _caller_user(caller, identity)
    try:
        await identity.logins.change_password(user, body.current_password, body.new_password)
    except LoginRefused as exc:
        raise HTTPException(403, "the current password is wrong") from exc
    except WeakPassword as exc:
        raise HTTPException(422, str(exc)) from exc
    except BusUnavailable as exc:
        raise _unavailable() from exc
    return Response(status_code=204)


@router.get("/api/auth/me")
async def me(caller: CallerDep, identity: IdentityDep) -> dict[str, Any]:
    """The caller: user (or API key), company and permissions."""
    company = await identity.companies.get(caller.company_id)
    user = (
        await identity.users.get(caller.company_id, uuid.UUID(caller.user_id))
        if caller.user_id
        else None
    )
    return {
        "subject": caller.subject,
        "company": CompanyView.of(company).model_dump(mode="json") if company else None,
        "user": UserView.of(user).model_dump(mode="json") if user else None,
        "role": caller.role,
        "permissions": sorted(caller.permissions),
        "platform_admin": caller.platform_admin,
    }


@router.post("/api/auth/token")
async def token(
    request: Request,
    identity: IdentityDep,
    grant_type: Annotated[str, Form()],
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
) -> JSONResponse:
    """OAuth 2.0 client credentials: an API key's id and secret (HTTP Basic, or form
    fields) for an access token with the key's scopes. Errors as RFC 6749 §5.2."""
    if grant_type != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type")
    credentials = _basic_credentials(request) or (client_id, client_secret)
    key_id, secret = credentials
    if not key_id or not secret:
        return _oauth_error(401, "invalid_client")
    issued = await identity.logins.token_for_api_key(key_id, secret)
    if issued is None:
        return _oauth_error(401, "invalid_client")
    return JSONResponse(
        {"access_token": issued.token, "token_type": "Bearer", "expires_in": issued.expires_in},
        headers={"Cache-Control": "no-store"},
    )


@router.get("/.well-known/jwks.json")
async def jwks(identity: IdentityDep) -> dict[str, Any]:
    """The public keys access tokens are signed with (also in JetStream KV)."""
    return {"keys": identity.keys.jwks()}


async def _caller_user(caller: Caller, identity: Identity) -> User:
    if caller.user_id is None:
        raise HTTPException(403, "an API key has no password")
    user = await identity.users.get(caller.company_id, uuid.UUID(caller.user_id))
    if user is None:
        raise HTTPException(404, "no such user")
    return user


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        key_id, _, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return key_id, secret


def _oauth_error(status: int, error: str) -> JSONResponse:
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="cauce"'
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def _unavailable() -> HTTPException:
    return HTTPException(503, "the bus is unavailable: try again", headers={"Retry-After": "2"})
