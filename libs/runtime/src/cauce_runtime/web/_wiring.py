"""How route handlers reach what the service's bootstrap built: one wired object per kind.

A service builds one bootstrap object (its settings, bus, stores and clients) and gives
it to :func:`~cauce_runtime.create_service_app` as ``wiring=``. Route handlers and
dependencies then ask for it by type::

    NotifierDep = Annotated[Notifier, Depends(wired(Notifier))]

    @router.get("/messages/{message_id}")
    async def get_message(message_id: uuid.UUID, notifier: NotifierDep) -> MessageDetail: ...

:func:`wired` gives the same ``async def`` dependency for the same type (FastAPI runs a
plain ``def`` dependency in a thread pool, and resolves a dependency once per request
only when it is the same callable). :func:`wiring_of` is the plain accessor, for
exception handlers and tests. This module is the only place that reads ``app.state``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from starlette.applications import Starlette
from starlette.requests import Request

T = TypeVar("T")

#: The ``app.state`` attribute holding the wired objects, by their exact type.
_STATE_KEY = "cauce_wiring"

#: One dependency per wired type, so FastAPI's per-request cache (keyed by the
#: callable) resolves it once however many parameters and guards ask for it.
_dependencies: dict[type[Any], Callable[[Request], Awaitable[Any]]] = {}


def wire(app: Starlette, *objects: object) -> None:
    """Make each of ``objects`` what :func:`wiring_of` (and :func:`wired`) give for its type."""
    wiring: dict[type[Any], object] = getattr(app.state, _STATE_KEY, None) or {}
    for obj in objects:
        if type(obj) in wiring:
            raise ValueError(f"a {type(obj).__name__} is already wired into this app")
        wiring[type(obj)] = obj
    setattr(app.state, _STATE_KEY, wiring)


def wiring_of(app: Starlette, kind: type[T]) -> T:
    """The object of type ``kind`` (or of a subclass) wired into ``app``.

    Raises ``LookupError`` when there is none: a wiring mistake, not a client error.
    """
    wiring: dict[type[Any], object] = getattr(app.state, _STATE_KEY, None) or {}
    found = wiring.get(kind)
    if isinstance(found, kind):
        return found
    for candidate in wiring.values():
        if isinstance(candidate, kind):
            return candidate
    raise LookupError(
        f"no {kind.__name__} is wired into this app; pass it as create_service_app(wiring=...)"
    )


def wired(kind: type[T]) -> Callable[[Request], Awaitable[T]]:
    """An ``async def`` FastAPI dependency giving the ``kind`` object wired into the app.

    ``Annotated[Kind, Depends(wired(Kind))]`` is the one way a handler or a dependency
    reaches the service's bootstrap object.
    """
    dependency = _dependencies.get(kind)
    if dependency is None:

        async def dependency(request: Request) -> Any:
            return wiring_of(request.app, kind)

        dependency.__name__ = dependency.__qualname__ = f"wired_{kind.__name__}"
        dependency = _dependencies.setdefault(kind, dependency)
    return cast(Callable[[Request], Awaitable[T]], dependency)
