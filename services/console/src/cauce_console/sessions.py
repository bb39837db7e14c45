"""The signed-in user's session: their access and refresh tokens in one cookie,
encrypted and authenticated (Fernet, keyed by ``CAUCE_CONSOLE_SESSION_KEY``), so the
browser holds them without being able to read them, and script never can (HttpOnly).

SameSite=Strict keeps the cookie off cross-site requests; every state-changing request
also needs the ``HX-Request`` header that the console's own pages send (a cross-site
form cannot set it): the two together stand for a CSRF token.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import asdict, dataclass, replace

from cryptography.fernet import Fernet, InvalidToken
from fastapi import Response

COOKIE = "cauce_session"
LANG_COOKIE = "cauce_lang"
#: How long a browser keeps the session (the refresh token's own expiry decides first).
MAX_AGE_S = 12 * 3600


@dataclass(frozen=True)
class Session:
    access_token: str
    refresh_token: str
    #: Unix time the access token expires (refreshed a little before).
    expires_at: float
    #: The user's display name, id and company (for the pages; the services read the
    #: token, never these).
    user: str
    user_id: str
    company: str


class SessionCookie:
    def __init__(self, key: str, *, secure: bool) -> None:
        digest = hashlib.sha256(("cauce console session:" + key).encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))
        self.secure = secure

    def read(self, value: str | None) -> Session | None:
        if not value:
            return None
        try:
            data = json.loads(self._fernet.decrypt(value.encode(), ttl=MAX_AGE_S))
            return Session(**data)
        except (InvalidToken, ValueError, TypeError):
            return None

    def write(self, response: Response, session: Session) -> None:
        value = self._fernet.encrypt(json.dumps(asdict(session)).encode()).decode()
        response.set_cookie(
            COOKIE,
            value,
            max_age=MAX_AGE_S,
            httponly=True,
            secure=self.secure,
            samesite="strict",
        )

    def clear(self, response: Response) -> None:
        response.delete_cookie(COOKIE, httponly=True, secure=self.secure, samesite="strict")


def renewed(session: Session, access_token: str, refresh_token: str, expires_at: float) -> Session:
    return replace(
        session, access_token=access_token, refresh_token=refresh_token, expires_at=expires_at
    )
