"""Odoo's JSON-RPC API (``POST {base}/jsonrpc``), Odoo 16-18 (19-21 still serve it).

- ``common.authenticate(db, login, password, {})`` gives our uid; it is cached and
  shared by every call, and concurrent callers wait for one login (and share its
  failure, so a wrong password costs one request, not one per caller).
- Every ORM method is ``object.execute_kw(db, uid, password, model, method, args,
  kwargs)``.
- ``odoo.http.SessionExpiredException``: log in again once and repeat the call.
- ``authenticate`` answering ``false``, or ``odoo.exceptions.AccessDenied`` on any
  call: :class:`OdooCredentialsRejected`, and the cached uid is dropped.

Errors arrive as HTTP 200 with an ``error`` envelope and are classified by
``error.data.name`` (:mod:`cauce_crm_sync.odoo.classify`).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
from collections.abc import Callable
from typing import Any

import httpx
from pydantic import SecretStr

from cauce_crm_sync.odoo import replies
from cauce_crm_sync.odoo.api import IMPORT_CONTEXT, Domain, Throttle, Vals
from cauce_crm_sync.odoo.classify import (
    SESSION_EXPIRED,
    from_odoo_error,
    from_response,
    odoo_error_of,
    unreadable,
)
from cauce_crm_sync.odoo.errors import OdooCredentialsRejected, OdooError, OdooUnavailable
from cauce_crm_sync.odoo.exchange import OdooExchange, given


class _Session:
    """One successful login; compared by identity (a new login may give the same uid)."""

    __slots__ = ("uid",)

    def __init__(self, uid: int) -> None:
        self.uid = uid


class JsonRpcOdoo:
    """:class:`~cauce_crm_sync.odoo.api.OdooApi` over ``/jsonrpc``."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        db: str,
        login: str,
        password: SecretStr,
        *,
        throttle: Throttle | None = None,
    ) -> None:
        self._exchange = OdooExchange(http, "jsonrpc", throttle)
        self._url = f"{base_url.rstrip('/')}/jsonrpc"
        self._db = db
        self._login = login
        self._password = password
        self._ids = itertools.count(1)
        self._session: _Session | None = None
        self._login_lock = asyncio.Lock()
        #: Logins finished so far, and how the last one failed (if it did).
        self._login_round = 0
        self._login_error: OdooError | None = None
        #: Successful logins so far.
        self.logins = 0

    # --- the API -------------------------------------------------------------------

    async def version(self) -> dict[str, Any]:
        return replies.mapping(await self._call("common", "version", []))

    async def create(self, model: str, vals_list: list[Vals]) -> list[int]:
        if not vals_list:
            return []
        result = await self._execute(model, "create", [list(vals_list)])
        return replies.created_ids(result, len(vals_list))

    async def write(self, model: str, ids: list[int], vals: Vals) -> None:
        if ids:
            await self._execute(model, "write", [list(ids), vals])

    async def load(self, model: str, fields: list[str], rows: list[list[Any]]) -> list[int]:
        if not rows:
            return []
        result = await self._execute(
            model, "load", [list(fields), [list(r) for r in rows]], {"context": IMPORT_CONTEXT}
        )
        return replies.loaded_ids(result, len(rows))

    async def search(
        self, model: str, domain: Domain, *, limit: int | None = None, order: str | None = None
    ) -> list[int]:
        kwargs = given(limit=limit, order=order)
        return replies.id_list(await self._execute(model, "search", [domain], kwargs))

    async def search_read(
        self,
        model: str,
        domain: Domain,
        fields: list[str],
        *,
        limit: int | None = None,
        offset: int = 0,
        order: str | None = None,
    ) -> list[dict[str, Any]]:
        kwargs = {"fields": fields, **given(limit=limit, offset=offset or None, order=order)}
        return replies.record_list(await self._execute(model, "search_read", [domain], kwargs))

    async def read(self, model: str, ids: list[int], fields: list[str]) -> list[dict[str, Any]]:
        if not ids:
            return []
        result = await self._execute(model, "read", [list(ids)], {"fields": fields})
        return replies.record_list(result)

    async def unlink(self, model: str, ids: list[int]) -> None:
        if ids:
            await self._execute(model, "unlink", [list(ids)])

    async def aclose(self) -> None:
        await self._exchange.aclose()

    # --- execute_kw with a session ---------------------------------------------------

    async def _execute(
        self, model: str, method: str, args: list[Any], kwargs: dict[str, Any] | None = None
    ) -> Any:
        session = await self._current_session()
        try:
            return await self._execute_as(session, model, method, args, kwargs or {})
        except OdooUnavailable as error:
            if error.code != SESSION_EXPIRED:
                raise
            self._forget(session)
        session = await self._current_session()
        try:
            return await self._execute_as(session, model, method, args, kwargs or {})
        except OdooUnavailable as error:
            if error.code == SESSION_EXPIRED:
                self._forget(session)
            raise

    async def _execute_as(
        self, session: _Session, model: str, method: str, args: list[Any], kwargs: dict[str, Any]
    ) -> Any:
        params = [
            self._db,
            session.uid,
            self._password.get_secret_value(),
            model,
            method,
            args,
            kwargs,
        ]
        try:
            return await self._call("object", "execute_kw", params, target=model, method=method)
        except OdooCredentialsRejected:
            self._forget(session)
            raise

    async def _current_session(self) -> _Session:
        session = self._session
        if session is not None:
            return session
        round_seen = self._login_round
        async with self._login_lock:
            if self._session is not None:
                return self._session  # another caller logged in while we waited
            if self._login_error is not None and self._login_round != round_seen:
                # The login we waited for failed: its answer is ours too.
                raise copy.copy(self._login_error)
            self._login_error = None
            try:
                self._session = await self._authenticate()
            except OdooError as error:
                self._login_error = error
                raise
            finally:
                # Counted when the login is over: whoever saw the round before waited
                # for this login.
                self._login_round += 1
            return self._session

    async def _authenticate(self) -> _Session:
        uid = await self._call(
            "common",
            "authenticate",
            [self._db, self._login, self._password.get_secret_value(), {}],
            read=_read_login,
        )
        self.logins += 1
        return _Session(uid)

    def _forget(self, session: _Session) -> None:
        if self._session is session:
            self._session = None

    # --- one request -----------------------------------------------------------------

    async def _call(
        self,
        service: str,
        service_method: str,
        args: list[Any],
        *,
        target: str | None = None,
        method: str | None = None,
        read: Callable[[httpx.Response], Any] | None = None,
    ) -> Any:
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": service_method, "args": args},
            "id": next(self._ids),
        }
        return await self._exchange.request(
            "POST",
            self._url,
            json=body,
            target=target or service,
            method=method or service_method,
            read=read or _read_result,
        )


def _read_result(response: httpx.Response) -> Any:
    """``result`` of a JSON-RPC answer, or the classified ``error``."""
    if response.status_code != 200:
        raise from_response(response)
    try:
        body = response.json()
    except ValueError:
        raise unreadable(response.status_code) from None
    if not isinstance(body, dict):
        raise unreadable(response.status_code)
    if "error" in body:
        odoo_error = odoo_error_of(body)
        name, message = odoo_error if odoo_error else (None, "")
        raise from_odoo_error(name, message, status=response.status_code)
    if "result" not in body:
        raise unreadable(response.status_code)
    return body["result"]


def _read_login(response: httpx.Response) -> int:
    uid = _read_result(response)
    if uid is False or uid is None:
        raise OdooCredentialsRejected("Odoo refused the login (authenticate answered false)")
    if not isinstance(uid, int) or isinstance(uid, bool):
        raise unreadable(response.status_code, "Odoo's authenticate answer is not a uid")
    return uid
