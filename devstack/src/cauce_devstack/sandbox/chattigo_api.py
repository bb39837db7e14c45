"""Fake Chattigo BSP (``/chattigo``): login, outbound send, webhook registration.

- ``POST /chattigo/login`` ``{username, password}`` -> ``{access_token, user, access}``;
  the token is an HS256 JWT (``sub``, ``iat``, ``exp``, ``jti``) living
  ``SandboxSettings.chattigo_token_ttl_s`` (default 8 h, as the real one).
- ``POST /chattigo/webhooks/inbound`` (Bearer): a message in Chattigo's own format;
  401 on a missing, unknown, tampered or expired token; 400 on a body missing
  ``id, did, msisdn, type, channel, content, name, isAttachment`` (and
  ``attachment{mediaUrl, mimeType}`` when ``isAttachment``); 200 with an EMPTY body
  when accepted, as Chattigo answers.
- ``PATCH /chattigo/webhooks/inbound`` (Bearer) ``{waId, externalWebhook}``: register
  where inbound messages for a number go.
- ``POST /sandbox/chattigo/tokens/expire``: expire every token issued so far (the
  "token expired mid-run" fault); ``GET /sandbox/chattigo/webhooks``: registrations.

Errors use Spring Boot's shape (``timestamp, status, error, message, path``), which is
what Chattigo's Java services answer. Accepted logins, sends and registrations are
recorded in the outbox with ``provider="chattigo"`` (logins without the password).
The body is validated strictly (unknown fields are refused) so a client bug shows up
here rather than as a silently ignored field in production.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

from cauce_devstack.sandbox.outbox import get_outbox
from cauce_devstack.sandbox.settings import SandboxSettings

Digits = Annotated[str, Field(pattern=r"^[0-9]{6,20}$")]
HttpUrl = Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2048)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Login(_Strict):
    username: StrictStr = Field(min_length=1)
    password: StrictStr = Field(min_length=1)


class Attachment(_Strict):
    mediaUrl: HttpUrl
    mimeType: Annotated[str, Field(pattern=r"^[\w.+-]+/[\w.+-]+$")]
    fileName: StrictStr | None = Field(default=None, min_length=1, max_length=240)


class OutboundMessage(_Strict):
    id: Annotated[StrictStr, Field(min_length=1, max_length=64)] | StrictInt
    did: Digits
    msisdn: Digits
    type: Literal["text", "media"]
    channel: Literal["WHATSAPP"]
    content: StrictStr = Field(max_length=4096)
    name: StrictStr = Field(min_length=1, max_length=120)
    isAttachment: StrictBool
    attachment: Attachment | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.isAttachment != (self.attachment is not None):
            raise ValueError("attachment is required exactly when isAttachment is true")
        if (self.type == "media") != self.isAttachment:
            raise ValueError("type 'media' goes with isAttachment true, 'text' with false")
        if self.type == "text" and not self.content.strip():
            raise ValueError("content must not be empty for a text message")
        return self


class WebhookRegistration(_Strict):
    waId: Digits
    externalWebhook: HttpUrl


class ChattigoState:
    """Issued tokens and webhook registrations of one sandbox app."""

    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self._secret = secrets.token_bytes(32)
        #: jti -> (username, expiry as unix time); authoritative over the JWT's exp.
        self._tokens: dict[str, tuple[str, float]] = {}
        self.webhooks: dict[str, str] = {}

    def issue(self, username: str) -> tuple[str, str]:
        now = time.time()
        jti = uuid.uuid4().hex
        exp = now + self.settings.chattigo_token_ttl_s
        self._tokens[jti] = (username, exp)
        header = _b64({"alg": "HS512", "typ": "JWT"})
        claims = _b64({"sub": username, "iat": int(now), "exp": int(exp), "jti": jti})
        signature = self._sign(f"{header}.{claims}")
        return f"{header}.{claims}.{signature}", jti

    def check(self, token: str | None) -> str | None:
        """The username of a valid token, else ``None``."""
        if token is None or token.count(".") != 2:
            return None
        signed, _, signature = token.rpartition(".")
        if not hmac.compare_digest(signature, self._sign(signed)):
            return None
        try:
            claims = json.loads(_unb64(signed.split(".")[1]))
        except ValueError:
            return None
        entry = self._tokens.get(str(claims.get("jti")))
        if entry is None or entry[1] <= time.time():
            return None
        return entry[0]

    def expire_all(self) -> int:
        now = time.time()
        live = [jti for jti, (_, exp) in self._tokens.items() if exp > now]
        for jti in live:
            user, _ = self._tokens[jti]
            self._tokens[jti] = (user, now)
        return len(live)

    def _sign(self, signed: str) -> str:
        digest = hmac.new(self._secret, signed.encode(), hashlib.sha512).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _b64(value: dict[str, Any]) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def get_state(request: Request) -> ChattigoState:
    state: ChattigoState = request.app.state.chattigo
    return state


def _error(status: int, error: str, message: str, path: str) -> JSONResponse:
    """Spring Boot's error body."""
    return JSONResponse(
        {
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "status": status,
            "error": error,
            "message": message,
            "path": path,
        },
        status_code=status,
    )


def _unauthorized(path: str) -> JSONResponse:
    return _error(401, "Unauthorized", "Full authentication is required or token expired", path)


def _bad_request(error: ValidationError | str, path: str) -> JSONResponse:
    if isinstance(error, str):
        return _error(400, "Bad Request", error, path)
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    return _error(400, "Bad Request", f"{where}: {message}" if where else message, path)


_BEARER = re.compile(r"^\s*bearer\s+(\S+)\s*$", re.IGNORECASE)


def _bearer(request: Request) -> str | None:
    match = _BEARER.match(request.headers.get("authorization", ""))
    return match.group(1) if match else None


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        return None


router = APIRouter(prefix="/chattigo", tags=["chattigo"])
sandbox_router = APIRouter(prefix="/sandbox/chattigo", tags=["sandbox"])


@router.post("/login")
async def login(request: Request) -> Response:
    path = "/login"
    try:
        body = Login.model_validate(await _json(request))
    except ValidationError as error:
        return _bad_request(error, path)
    state = get_state(request)
    expected = state.settings.chattigo_users.get(body.username)
    if expected is None or not hmac.compare_digest(
        body.password.encode(), expected.get_secret_value().encode()
    ):
        return _error(401, "Unauthorized", "Bad credentials", path)
    token, jti = state.issue(body.username)
    get_outbox(request).record(
        provider="chattigo",
        kind="login",
        phone_number_id="",
        type="login",
        message_id=jti,
        payload={"username": body.username},
    )
    return JSONResponse({"access_token": token, "user": body.username, "access": True})


@router.post("/webhooks/inbound")
async def send_message(request: Request) -> Response:
    path = "/webhooks/inbound"
    if get_state(request).check(_bearer(request)) is None:
        return _unauthorized(path)
    raw = await _json(request)
    try:
        message = OutboundMessage.model_validate(raw)
    except ValidationError as error:
        return _bad_request(error, path)
    get_outbox(request).record(
        provider="chattigo",
        kind="message",
        phone_number_id=message.did,
        to=message.msisdn,
        type=message.type,
        message_id=str(message.id),
        payload=raw,
    )
    return Response(status_code=200)


@router.patch("/webhooks/inbound")
async def register_webhook(request: Request) -> Response:
    path = "/webhooks/inbound"
    state = get_state(request)
    if state.check(_bearer(request)) is None:
        return _unauthorized(path)
    raw = await _json(request)
    try:
        registration = WebhookRegistration.model_validate(raw)
    except ValidationError as error:
        return _bad_request(error, path)
    state.webhooks[registration.waId] = registration.externalWebhook
    get_outbox(request).record(
        provider="chattigo",
        kind="webhook_registration",
        phone_number_id=registration.waId,
        type="webhook_registration",
        message_id=registration.waId,
        payload=raw,
    )
    return JSONResponse(
        {"waId": registration.waId, "externalWebhook": registration.externalWebhook}
    )


@sandbox_router.post("/tokens/expire")
async def expire_tokens(request: Request) -> dict[str, int]:
    """Expire every Chattigo token issued so far: the next send answers 401."""
    return {"expired": get_state(request).expire_all()}


@sandbox_router.get("/webhooks")
async def list_webhooks(request: Request) -> dict[str, str]:
    return dict(get_state(request).webhooks)


def install(app: FastAPI) -> None:
    """Mount the fake on ``app`` (whose ``state.settings`` and outbox exist)."""
    app.state.chattigo = ChattigoState(app.state.settings)
    app.include_router(router)
    app.include_router(sandbox_router)


__all__ = ["ChattigoState", "install", "router", "sandbox_router"]
