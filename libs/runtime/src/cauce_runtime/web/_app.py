"""The FastAPI app every service starts from, and the uvicorn runner with graceful drain.

:func:`create_service_app` gives a service ``/healthz`` (the process is alive),
``/readyz`` (the bus is connected and every readiness check passes; 503 naming the
failing checks otherwise), ``/metrics`` (Prometheus) and ``/docs``; it starts the bus
in the lifespan (retrying in the background if NATS is not up yet, so the pod is
alive but not ready) and stops it on shutdown. The service's bootstrap object, passed
as ``wiring=``, is what :func:`~cauce_runtime.wired` gives its route handlers; the
probes are module-level handlers reading their state the same way.

Lifespan hooks are ``async`` callables without arguments (usually the bootstrap
object's methods): ``on_prepare`` hooks run before the bus starts (open stores, run
migrations: the consumers may get messages as soon as the bus is up; a failing hook
stops the start), ``on_startup`` hooks after the bus start was attempted,
``on_shutdown`` hooks before the bus stops (so they may still publish), ``on_closed``
hooks after it stopped and its consumers finished (close the stores they use there).

:func:`serve` runs it under uvicorn. On SIGTERM uvicorn stops accepting connections and
waits up to ``shutdown_timeout_s`` for in-flight requests; then the lifespan shutdown
stops the subscribers (in-flight handlers finish, unacked messages are redelivered
elsewhere) and drains the NATS connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import uvicorn
from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import JSONResponse, Response
from fastapi.telemetry import TelemetryConfig
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.types import ASGIApp

from cauce_runtime._backoff import Backoff
from cauce_runtime._errors import BusUnavailable
from cauce_runtime._settings import ServiceSettings
from cauce_runtime._startup_heap import freeze_startup_heap
from cauce_runtime.bus._bus import Bus
from cauce_runtime.identity._verifier import TokenVerifier
from cauce_runtime.identity._watch import IdentityWatch
from cauce_runtime.telemetry._logs import configure_logging
from cauce_runtime.telemetry._server_spans import HttpTelemetryMiddleware
from cauce_runtime.telemetry._tracing import setup_telemetry
from cauce_runtime.telemetry.metrics import install_meter_provider
from cauce_runtime.web._problems import install_problem_handlers
from cauce_runtime.web._wiring import wire, wired

logger = logging.getLogger(__name__)

ReadinessCheck = Callable[[], Awaitable[bool]]
LifespanHook = Callable[[], Awaitable[None]]

#: FastAPI's own OpenTelemetry layer, switched off (see ``create_service_app``).
NO_NATIVE_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}

#: Waits between attempts to start the bus when NATS is down at start.
_START_RETRIES = Backoff.exponential(0.5, 5.0)


async def _keep_starting(bus: Bus) -> None:
    """Retry ``bus.start()`` until it succeeds (NATS was down when the service started)."""
    attempt = 0
    while not bus.started:
        attempt += 1
        await asyncio.sleep(_START_RETRIES.delay(attempt))
        try:
            await bus.start()
        except BusUnavailable as exc:
            logger.warning("bus still unavailable: %s", exc)
    logger.info("bus started after retrying")


async def _check(name: str, check: ReadinessCheck, timeout: float) -> bool:  # noqa: ASYNC109
    try:
        async with asyncio.timeout(timeout):
            return bool(await check())
    except Exception:
        logger.warning("readiness check %s failed", name, exc_info=True)
        return False


async def _run_hooks(hooks: Iterable[LifespanHook], *, stage: str) -> None:
    """Run every hook; one failing is logged and the others still run (shutting down)."""
    for hook in hooks:
        try:
            await hook()
        except Exception:
            logger.exception("%s hook %s failed", stage, getattr(hook, "__qualname__", hook))


@dataclass(frozen=True)
class _Lifespan:
    """The service's lifespan: prepare, start the bus, serve, then stop in order."""

    bus: Bus | None
    on_prepare: Sequence[LifespanHook]
    on_startup: Sequence[LifespanHook]
    on_shutdown: Sequence[LifespanHook]
    on_closed: Sequence[LifespanHook]

    @contextlib.asynccontextmanager
    async def __call__(self, app: FastAPI) -> AsyncIterator[None]:
        starter = await self._start()
        try:
            yield
        finally:
            if starter is not None:
                starter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await starter
            await _run_hooks(self.on_shutdown, stage="shutdown")
            if self.bus is not None:
                await self.bus.stop()
            await _run_hooks(self.on_closed, stage="closing")

    async def _start(self) -> asyncio.Task[None] | None:
        """Prepare, then start the bus (in the background when NATS is down)."""
        starter: asyncio.Task[None] | None = None
        for hook in self.on_prepare:
            await hook()
        if self.bus is not None:
            try:
                await self.bus.start()
            except BusUnavailable as exc:
                logger.warning("bus unavailable at start (%s); retrying in the background", exc)
                starter = asyncio.create_task(_keep_starting(self.bus))
        for hook in self.on_startup:
            await hook()
        freeze_startup_heap()  # shorter full collections: fewer loop stalls
        return starter


@dataclass(frozen=True)
class _Probes:
    """What the probes read: the service's name, its bus and its readiness checks."""

    service_name: str
    bus: Bus | None
    checks: Mapping[str, ReadinessCheck]
    timeout_s: float

    async def results(self) -> dict[str, bool]:
        """Each check by name (the bus first), run at once, each within ``timeout_s``."""
        named = dict(self.checks)
        if self.bus is not None:
            named = {"bus": functools.partial(self.bus.ping, self.timeout_s), **named}
        names = list(named)
        outcomes = await asyncio.gather(*(_check(n, named[n], self.timeout_s) for n in names))
        return dict(zip(names, outcomes, strict=True))


ProbesDep = Annotated[_Probes, Depends(wired(_Probes))]

#: ``/healthz``, ``/readyz`` and ``/metrics``, mounted first on every service app.
ops_router = APIRouter(tags=["ops"])


@ops_router.get("/healthz", summary="Liveness: the process answers")
async def healthz(probes: ProbesDep) -> dict[str, str]:
    return {"status": "ok", "service": probes.service_name}


@ops_router.get(
    "/readyz",
    summary="Readiness: bus connected and every dependency reachable",
    responses={503: {"description": "a dependency is not reachable; body names it"}},
)
async def readyz(probes: ProbesDep) -> JSONResponse:
    results = await probes.results()
    failing = [name for name, ok in results.items() if not ok]
    body: dict[str, Any] = {
        "status": "unavailable" if failing else "ready",
        "service": probes.service_name,
        "checks": {name: "ok" if ok else "failing" for name, ok in results.items()},
    }
    if failing:
        body["failing"] = failing
    return JSONResponse(body, status_code=503 if failing else 200)


@ops_router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def prometheus_metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


def create_service_app(
    settings: ServiceSettings,
    *,
    bus: Bus | None,
    wiring: object = None,
    readiness: Mapping[str, ReadinessCheck] | None = None,
    routers: Iterable[APIRouter] = (),
    on_prepare: Sequence[LifespanHook] = (),
    on_startup: Sequence[LifespanHook] = (),
    on_shutdown: Sequence[LifespanHook] = (),
    on_closed: Sequence[LifespanHook] = (),
    title: str | None = None,
    version: str = "0.1.0",
    description: str = "",
    readiness_timeout_s: float = 2.0,
    verifier: TokenVerifier | None = None,
) -> FastAPI:
    """A FastAPI app with probes, metrics, problem+json errors, HTTP telemetry and the bus;
    ``wiring`` (the service's bootstrap object) is what ``wired(type(wiring))`` gives.

    With ``verifier``, routes may ask for the verified caller
    (:data:`cauce_runtime.identity.CallerDep`); with a bus too, the verifier follows the
    identity service's keys and revoked sessions from JetStream KV."""
    install_meter_provider(settings)  # /metrics serves what the meter records
    if verifier is not None and bus is not None:
        watch = IdentityWatch(verifier, bus)
        on_startup = [watch.start, *on_startup]
        on_shutdown = [*on_shutdown, watch.stop]
    app = FastAPI(
        title=title or settings.service_name,
        version=version,
        description=description,
        lifespan=_Lifespan(bus, on_prepare, on_startup, on_shutdown, on_closed),
        # FastAPI's native telemetry records raw URLs (Chattigo's URL token, Meta's
        # hub.verify_token) and request bodies with phone numbers; HttpTelemetryMiddleware
        # records route templates only, and one server span instead of several.
        telemetry=NO_NATIVE_TELEMETRY,
    )
    probes = _Probes(settings.service_name, bus, dict(readiness or {}), readiness_timeout_s)
    wire(app, probes)
    if wiring is not None:
        wire(app, wiring)
    if verifier is not None:
        wire(app, verifier)
    install_problem_handlers(app)
    app.add_middleware(HttpTelemetryMiddleware)
    for router in (ops_router, *routers):
        app.include_router(router)
    return app


def uvicorn_config(app: ASGIApp, settings: ServiceSettings) -> uvicorn.Config:
    """The uvicorn config :func:`serve` uses (exposed for tests and custom runners)."""
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        lifespan="on",
        timeout_graceful_shutdown=int(max(1, settings.shutdown_timeout_s)),
        log_config=None,  # keep configure_logging's JSON handler
        access_log=False,
        server_header=False,
        proxy_headers=True,
    )


class _DrainingServer(uvicorn.Server):
    """uvicorn's server, exiting 0 after a signal-initiated graceful shutdown.

    uvicorn re-raises the captured SIGTERM/SIGINT once it has shut down, so the process
    dies by the signal (exit 143/130) even though everything drained; a drained
    service exits 0 instead, which supervisors and ``make run`` read as a clean stop.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            try:
                yield
            finally:
                self._captured_signals.clear()


S = TypeVar("S", bound=ServiceSettings)


def run(create_app: Callable[[S], FastAPI], settings: S) -> None:
    """A service's ``main``: JSON logs, telemetry, then :func:`serve` until SIGTERM.

    Every ``python -m cauce_<service>`` is this one call, so start-up is the same
    everywhere and pending spans are flushed on the way out.
    """
    configure_logging(settings)
    telemetry = setup_telemetry(settings)
    # The app is built inside the server's event loop: clients that bind to the loop
    # they were created in (asyncpg pools, for one) must not be made before it exists.
    loop_factory = uvicorn_config(FastAPI(), settings).get_loop_factory()
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            runner.run(_serve(create_app, settings))
    finally:
        telemetry.shutdown()


async def _serve(create_app: Callable[[S], FastAPI], settings: S) -> None:
    await _DrainingServer(uvicorn_config(create_app(settings), settings)).serve()


def serve(app: ASGIApp, settings: ServiceSettings) -> None:
    """Run ``app`` until SIGINT/SIGTERM, then drain (requests, handlers, bus) and exit 0."""
    _DrainingServer(uvicorn_config(app, settings)).run()
