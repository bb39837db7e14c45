"""CLIENT spans for PostgreSQL (asyncpg) and MongoDB (PyMongo) calls.

The OpenTelemetry instrumentation packages for asyncpg and PyMongo are not among our
dependencies (they pin their own instrumentation and semantic-conventions versions),
so this module does what they do, in the same two places:

- asyncpg: the query methods of ``asyncpg.connection.Connection`` are wrapped (pool
  connections forward to that class at call time, so pools are covered);
- PyMongo: a ``CommandListener`` registered globally (clients created afterwards,
  ``AsyncMongoClient`` included, report every command to it).

Attributes follow the database conventions: ``db.system.name`` (``postgresql``,
``mongodb``), ``db.namespace`` (database), ``db.collection.name`` (table or
collection), ``db.operation.name``, ``db.query.summary`` (``SELECT notifier.messages``,
also the span name), ``server.address``/``server.port`` and ``error.type``. Never the
query text's parameters or a MongoDB command document: those hold phone numbers and
message texts. The SQL text itself is left out too (it adds kilobytes per span and
the summary names what ran).

Only calls made inside a trace get a span: a readiness probe's ``SELECT 1``, a
migration or a rate-limit bucket touched outside any request would otherwise each
start a trace of their own. Transaction control (``BEGIN``/``COMMIT``/...) is skipped.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Awaitable, Callable
from typing import Any, Final

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

TRACER_NAME: Final = "cauce_runtime.db"
#: asyncpg ``Connection`` methods that run a statement.
ASYNCPG_METHODS: Final = ("execute", "executemany", "fetch", "fetchval", "fetchrow", "fetchmany")
_TRANSACTION_CONTROL: Final = frozenset(
    {"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"}
)
_FIRST_WORD = re.compile(r"\s*(?:--[^\n]*\n\s*)*([A-Za-z]+)")
_TARGET = re.compile(r"\b(?:FROM|INTO|UPDATE|JOIN|TABLE)\s+(?:ONLY\s+)?([A-Za-z_][\w.\"]*)", re.I)

_lock = threading.Lock()
_installed = False


def _in_a_trace() -> bool:
    return trace.get_current_span().get_span_context().is_valid


@functools.lru_cache(maxsize=2048)
def sql_summary(query: str) -> tuple[str, str | None]:
    """``(operation, target table)`` of a SQL statement: ``("SELECT", "notifier.messages")``.

    The first table named after FROM/INTO/UPDATE/JOIN is the target (for a ``WITH``
    statement, the first one its CTEs touch); None when there is none (``SELECT 1``).
    """
    first = _FIRST_WORD.match(query)
    operation = first.group(1).upper() if first else "QUERY"
    target = _TARGET.search(query)
    return operation, target.group(1).replace('"', "") if target else None


def _asyncpg_attributes(connection: Any, operation: str, target: str | None) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "db.system.name": "postgresql",
        "db.operation.name": operation,
        "db.query.summary": f"{operation} {target}" if target else operation,
    }
    if target:
        attributes["db.collection.name"] = target
    params = getattr(connection, "_params", None)
    database = getattr(params, "database", None)
    if database:
        attributes["db.namespace"] = str(database)
    address = getattr(connection, "_addr", None)
    if isinstance(address, tuple) and len(address) >= 2:
        attributes["server.address"] = str(address[0])
        attributes["server.port"] = int(address[1])
    elif isinstance(address, str):
        attributes["server.address"] = address  # a unix socket path
    return attributes


def _traced_asyncpg(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    tracer = trace.get_tracer(TRACER_NAME)

    @functools.wraps(method)
    async def traced(self: Any, *args: Any, **kwargs: Any) -> Any:
        query = args[0] if args else kwargs.get("query", kwargs.get("command"))
        if (
            not isinstance(query, str)
            or not _in_a_trace()
            # the pool's reset on release (UNLISTEN, RESET ALL...): not the service's work
            or query == getattr(self, "_reset_query", None)
        ):
            return await method(self, *args, **kwargs)
        operation, target = sql_summary(query)
        if operation in _TRANSACTION_CONTROL:
            return await method(self, *args, **kwargs)
        attributes = _asyncpg_attributes(self, operation, target)
        # a leaf: nothing runs inside it that would need it as the current span, so it
        # is not made current (attaching and detaching the context was a third of its cost)
        span = tracer.start_span(
            attributes["db.query.summary"], kind=SpanKind.CLIENT, attributes=attributes
        )
        try:
            return await method(self, *args, **kwargs)
        except Exception as exc:
            _failed(span, exc)
            raise
        finally:
            span.end()

    traced.__cauce_traced__ = True  # type: ignore[attr-defined]
    return traced


def _failed(span: Span, exc: BaseException) -> None:
    """Error type and status only: a driver's message can quote the parameters."""
    code = getattr(exc, "sqlstate", None) or getattr(exc, "code", None)
    span.set_attribute("error.type", type(exc).__name__)
    if code is not None:
        span.set_attribute("db.response.status_code", str(code))
    span.set_status(Status(StatusCode.ERROR, type(exc).__name__))


def instrument_asyncpg() -> bool:
    """Wrap asyncpg's query methods once; False when asyncpg is not installed."""
    try:
        from asyncpg.connection import Connection
    except ImportError:
        return False
    for name in ASYNCPG_METHODS:
        method = getattr(Connection, name, None)
        if method is not None and not getattr(method, "__cauce_traced__", False):
            setattr(Connection, name, _traced_asyncpg(method))
    return True


def _mongo_collection(command_name: str, command: Any) -> str | None:
    """The collection a command works on (``find: "messages"``, ``getMore``'s
    ``collection``), without reading anything else from the command."""
    try:
        value = (
            command.get("collection") if command_name == "getMore" else command.get(command_name)
        )
    except AttributeError:
        return None
    return value if isinstance(value, str) else None


def _mongo_listener() -> Any:
    from pymongo import monitoring

    class MongoCommandSpans(monitoring.CommandListener):
        """One CLIENT span per MongoDB command issued inside a trace."""

        def __init__(self) -> None:
            self.tracer = trace.get_tracer(TRACER_NAME)
            self._spans: dict[tuple[int, Any], Span] = {}
            self._lock = threading.Lock()

        def started(self, event: monitoring.CommandStartedEvent) -> None:
            if not _in_a_trace():
                return
            name = event.command_name
            collection = _mongo_collection(name, event.command)
            attributes: dict[str, Any] = {
                "db.system.name": "mongodb",
                "db.namespace": event.database_name,
                "db.operation.name": name,
                "db.query.summary": f"{name} {collection}" if collection else name,
            }
            if collection:
                attributes["db.collection.name"] = collection
            address = event.connection_id
            if isinstance(address, tuple) and len(address) >= 2:
                attributes["server.address"] = str(address[0])
                if address[1] is not None:
                    attributes["server.port"] = int(address[1])
            span = self.tracer.start_span(
                attributes["db.query.summary"], kind=SpanKind.CLIENT, attributes=attributes
            )
            with self._lock:
                self._spans[(event.request_id, event.connection_id)] = span

        def _finish(self, event: Any) -> Span | None:
            with self._lock:
                return self._spans.pop((event.request_id, event.connection_id), None)

        def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
            span = self._finish(event)
            if span is not None:
                span.end()

        def failed(self, event: monitoring.CommandFailedEvent) -> None:
            span = self._finish(event)
            if span is None:
                return
            failure = event.failure if isinstance(event.failure, dict) else {}
            code = failure.get("code")
            span.set_attribute("error.type", str(failure.get("codeName") or "command_failed"))
            if code is not None:
                span.set_attribute("db.response.status_code", str(code))
            span.set_status(Status(StatusCode.ERROR))
            span.end()

    return MongoCommandSpans()


def instrument_pymongo() -> bool:
    """Register the command listener for clients created from now on; False when
    PyMongo is not installed."""
    try:
        from pymongo import monitoring
    except ImportError:
        return False
    monitoring.register(_mongo_listener())
    return True


def instrument_databases() -> None:
    """Both of the above, once per process (``setup_telemetry`` calls it)."""
    global _installed
    with _lock:
        if _installed:
            return
        instrument_asyncpg()
        instrument_pymongo()
        _installed = True
