"""Helpers for tests: real servers in the test's loop, the launcher as a subprocess, and
in-memory stand-ins for unit tests that run without any server (:class:`RecordingBus`,
:func:`delivery_for`, :func:`no_network`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast, overload
from unittest import mock

import asyncpg
import httpx
import nats
import psutil
import uvicorn
from nats.aio.msg import Msg
from nats.js.api import PubAck, RawStreamMsg
from starlette.types import ASGIApp

from cauce_contracts.envelope import Event
from cauce_contracts.registry import parse_event
from cauce_contracts.streams import STREAMS
from cauce_devstack.servers.nats_keys import NatsKeys, nats_keys_file
from cauce_devstack.servers.ports import LOOPBACK, free_port, stable_free_port
from cauce_devstack.servers.postgres import PostgresServer
from cauce_devstack.stack import BASE_PORT_OFFSETS
from cauce_runtime import BusUnavailable, ConsumerSpec, Delivery, NewTrace, Publication

T = TypeVar("T")
E = TypeVar("E", bound=Event)


def free_ports() -> dict[str, int]:
    """A free loopback port for every component the stack can bind, outside the
    ephemeral range: the launched stack binds them seconds later, and an ephemeral port
    can be taken meanwhile by any outgoing connection (a parallel test's, say)."""
    ports: dict[str, int] = {}
    for name in BASE_PORT_OFFSETS:
        ports[name] = stable_free_port(set(ports.values()))
    return ports


def service_test_values(nats_url: str, tmp_path: Path) -> dict[str, Any]:
    """The settings every service takes when a test runs it in-process: the test
    environment, the test's nats-server, and spans in the test's own file (a port and
    the service's own settings are the caller's)."""
    return {"environment": "test", "nats_url": nats_url, "span_file": tmp_path / "spans.jsonl"}


@contextlib.asynccontextmanager
async def fresh_database(server: PostgresServer, prefix: str = "test") -> AsyncIterator[str]:
    """A new, empty database on ``server`` for one test; dropped (connections and all)
    afterwards. Yields its URL."""
    name = f"{prefix}_{os.urandom(6).hex()}"
    admin = await asyncpg.connect(server.url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield server.url_for(name)
    finally:
        admin = await asyncpg.connect(server.url)
        try:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def stored_messages(
    nats_url: str, stream: str, *, nkey_seed: str | None = None
) -> list[RawStreamMsg]:
    """Every message ``stream`` holds now, in order, read straight from JetStream
    (no consumer involved, so reading changes nothing the services see); ``nkey_seed``
    signs in to a stack with users (``make run``'s: :func:`dev_admin_seed`)."""
    nc = await nats.connect(nats_url, nkeys_seed_str=nkey_seed)
    try:
        jsm = nc.jsm()
        state = (await jsm.stream_info(stream)).state
        if not state.messages:
            return []
        return [
            await jsm.get_msg(stream, seq) for seq in range(state.first_seq, state.last_seq + 1)
        ]
    finally:
        await nc.close()


async def stored_events(nats_url: str, stream: str, prefix: str = "") -> list[Event]:
    """The events on ``stream`` whose subject starts with ``prefix``, parsed, in order."""
    return [
        parse_event(raw.data or b"")
        for raw in await stored_messages(nats_url, stream)
        if raw.subject and raw.subject.startswith(prefix)
    ]


async def eventually(
    check: Callable[[], Awaitable[T]],
    timeout: float = 20.0,  # noqa: ASYNC109 - the bound on the polling is the API
    what: str = "the condition",
    poll_s: float = 0.05,
) -> T:
    """Poll ``check`` until it returns something truthy and return that; an
    ``AssertionError`` naming ``what`` after ``timeout`` seconds."""
    try:
        async with asyncio.timeout(timeout):
            # Polling on purpose: the condition lives in another process (HTTP, a
            # database, a stream); there is no event in this one to wait on.
            while not (result := await check()):  # noqa: ASYNC110
                await asyncio.sleep(poll_s)
            return result
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


def read_until(process: subprocess.Popen[bytes], marker: str, timeout: float) -> str:
    """Read the process's stdout until ``marker`` appears (raw pipe: no Python-side
    buffering that select() cannot see); fail with the output so far."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    seen = b""
    deadline = time.monotonic() + timeout
    while marker.encode() not in seen:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or process.poll() is not None:
            raise AssertionError(f"no {marker!r} in time; output so far:\n{seen.decode()}")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            seen += os.read(fd, 65536)
    return seen.decode()


@contextlib.asynccontextmanager
async def serving(app: ASGIApp, port: int | None = None) -> AsyncIterator[str]:
    """Serve ``app`` over real HTTP with uvicorn, inside the running event loop, on a
    free loopback port (lifespan included); yield its base URL."""
    port = port or free_port()
    config = uvicorn.Config(app, host=LOOPBACK, port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # it failed to start: raise why
            raise RuntimeError("uvicorn stopped before it started")
        await asyncio.sleep(0.01)
    try:
        yield f"http://{LOOPBACK}:{port}"
    finally:
        server.should_exit = True
        await task


@dataclass
class LaunchedStack:
    """``python -m cauce_devstack run`` as a subprocess, for tests."""

    process: subprocess.Popen[bytes]
    children: list[psutil.Process] = field(default_factory=list)

    def wait_ready(self, timeout: float) -> str:
        """Wait for the "stops everything" line; remember the children for clean-up."""
        output = read_until(self.process, "Ctrl-C stops everything", timeout)
        self.children = psutil.Process(self.process.pid).children(recursive=True)
        return output

    def interrupt(self, timeout: float = 90) -> int:
        """Ctrl-C, as a person would; the launcher's exit code."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=timeout)

    def survivors(self, timeout: float = 15) -> list[psutil.Process]:
        _, alive = psutil.wait_procs(self.children, timeout=timeout)
        return list(alive)


def dev_admin_seed(home: Path) -> str:
    """The admin's NKEY seed of the dev stack under ``home`` (tools sign in with it)."""
    return NatsKeys.kept_in(nats_keys_file(home)).admin_seed


@contextlib.contextmanager
def launched(
    home: Path,
    ports: Mapping[str, int],
    *args: str,
    keep_mongodb_url: bool = False,
    env: Mapping[str, str] | None = None,
) -> Iterator[LaunchedStack]:
    """Run the launcher on ``ports`` under ``home`` (``env`` on top of ours, seen by every
    service); stop it and every child it started on the way out, even when the test
    failed half-way. Tests run it on the SecantusDB stand-in unless ``keep_mongodb_url``."""
    env = {
        **{k: v for k, v in os.environ.items() if keep_mongodb_url or k != "MONGODB_URL"},
        **(env or {}),
    }
    process = subprocess.Popen(  # noqa: S603 - our own module, fixed argv
        [
            sys.executable,
            "-m",
            "cauce_devstack",
            "run",
            "--home",
            str(home),
            *(f"--port={name}={port}" for name, port in ports.items()),
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    stack = LaunchedStack(process)
    try:
        yield stack
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for child in stack.children:
            if child.is_running():
                child.kill()


# --- unit tests: no servers -------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    """One publish :class:`RecordingBus` acknowledged."""

    event: Event
    subject: str
    #: The ``Nats-Msg-Id`` the bus would send: the ``msg_id`` given, else the event id.
    msg_id: str
    headers: Mapping[str, str]
    #: JetStream would have dropped it: the same ``msg_id`` was published before.
    duplicate: bool


def _stream_of(subject: str) -> str:
    """The stream that captures ``subject`` (``""`` when none does)."""
    for stream in STREAMS:
        if any(subject.startswith(root.removesuffix(">")) for root in stream.subjects):
            return stream.name
    return ""


class RecordingBus:
    """An in-memory :class:`~cauce_runtime.Publisher` for unit tests.

    Records every publish it acknowledges (event, subject, ``msg_id``, headers), and
    answers like JetStream: a ``msg_id`` published before is acknowledged as a
    duplicate (the stream keeps the first; the duplicate window never ends here). Each
    event goes through its JSON form, as on the wire, so an event that would not
    serialise fails here too. :meth:`fail` makes publishes raise
    :class:`~cauce_runtime.BusUnavailable`, as the real bus does when JetStream does not
    acknowledge in time; a refused publish is not recorded.
    """

    def __init__(self) -> None:
        self.published: list[Published] = []
        #: Publishes refused while failing (the bus did not take them).
        self.refused = 0
        self._failures_left: int | None = 0
        #: Publishes still acknowledged before the failures start.
        self._healthy_left = 0
        self._seen: set[str] = set()

    async def publish(
        self,
        event: Event,
        subject: str,
        *,
        msg_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the protocol's signature
        new_trace: NewTrace | None = None,
    ) -> PubAck:
        if self._healthy_left > 0:
            self._healthy_left -= 1
        elif self._failures_left is None or self._failures_left > 0:
            if self._failures_left is not None:
                self._failures_left -= 1
            self.refused += 1
            raise BusUnavailable(f"publish to {subject} not acknowledged (test)", retry_after=1.0)
        wire = type(event).model_validate_json(event.model_dump_json())
        nats_msg_id = msg_id or str(event.event_id)
        duplicate = nats_msg_id in self._seen
        self._seen.add(nats_msg_id)
        self.published.append(Published(wire, subject, nats_msg_id, dict(headers or {}), duplicate))
        return PubAck(stream=_stream_of(subject), seq=len(self._seen), duplicate=duplicate)

    async def publish_batch(
        self,
        batch: Sequence[Publication],
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - the protocol's signature
    ) -> list[PubAck]:
        """Each in turn, as :meth:`publish`; a refusal is raised after all were tried
        (as the real bus does when one of a batch is not acknowledged)."""
        results: list[PubAck | BusUnavailable] = []
        for item in batch:
            try:
                results.append(
                    await self.publish(
                        item.event, item.subject, msg_id=item.msg_id, new_trace=item.new_trace
                    )
                )
            except BusUnavailable as exc:
                results.append(exc)
        for result in results:
            if isinstance(result, BusUnavailable):
                raise result
        return [r for r in results if isinstance(r, PubAck)]

    def fail(self, times: int | None = None, *, after: int = 0) -> None:
        """Refuse ``times`` publishes (every one until :meth:`recover`: None), once
        ``after`` more have been acknowledged."""
        self._failures_left = times
        self._healthy_left = after

    def recover(self) -> None:
        self._failures_left = 0
        self._healthy_left = 0

    @property
    def msg_ids(self) -> list[str]:
        """The ``msg_id`` of every acknowledged publish, duplicates included, in order."""
        return [p.msg_id for p in self.published]

    @overload
    def stored(self) -> list[Event]: ...

    @overload
    def stored(self, model: type[E]) -> list[E]: ...

    def stored(self, model: type[Event] = Event) -> list[Any]:
        """The events (of type ``model``) the streams would hold, duplicates dropped, in
        publish order."""
        return [p.event for p in self.published if not p.duplicate and isinstance(p.event, model)]


class _MsgStandIn:
    """What a handler can reach of a nats ``Msg`` through :class:`~cauce_runtime.Delivery`
    (only ``in_progress``: handlers never settle a message, the runtime does)."""

    def __init__(self) -> None:
        self.progress_reports = 0

    async def in_progress(self) -> None:
        self.progress_reports += 1


def delivery_for(
    spec: ConsumerSpec,
    *,
    num_delivered: int = 1,
    subject: str | None = None,
    headers: Mapping[str, str] | None = None,
    stream_sequence: int = 1,
) -> Delivery:
    """A :class:`~cauce_runtime.Delivery` of ``spec`` as a handler sees it, without a
    nats-server: ``num_delivered == spec.max_deliver`` is the last attempt."""
    return Delivery(
        subject=subject or spec.filter_subjects[0],
        headers=dict(headers or {}),
        num_delivered=num_delivered,
        stream_sequence=stream_sequence,
        spec=spec,
        raw=cast(Msg, _MsgStandIn()),
    )


class NetworkUsed(AssertionError):
    """A unit test tried to open a network connection."""


@contextlib.contextmanager
def no_network() -> Iterator[None]:
    """Fail any attempt to connect or bind a socket inside the block (the event loop's
    own self-pipe is a ``socketpair`` and stays allowed): proof that a unit test really
    runs without servers."""

    def refuse(sock: socket.socket, *args: Any, **kwargs: Any) -> Any:
        raise NetworkUsed(f"a unit test used the network: {sock!r} {args!r}")

    with (
        mock.patch.object(socket.socket, "connect", refuse),
        mock.patch.object(socket.socket, "connect_ex", refuse),
        mock.patch.object(socket.socket, "bind", refuse),
    ):
        yield


async def sse_events(stream: Any) -> AsyncIterator[tuple[str | None, str, Any]]:
    """``(id, event, data as JSON)`` of each Server-Sent Event of an ``httpx`` streamed
    response, as they arrive."""
    event_id: str | None = None
    kind = "message"
    data: list[str] = []
    async for line in stream.aiter_lines():
        if line == "":
            if data:
                yield event_id, kind, json.loads("\n".join(data))
            event_id, kind, data = None, "message", []
        elif line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())


def create_admin(postgres_port: int, company: str, email: str, password: str) -> None:
    """README's first step, as a person runs it: ``python -m cauce_identity create-admin``
    against the launched stack's PostgreSQL, the password on stdin."""
    made = subprocess.run(  # noqa: S603 - our own module, fixed argv
        [
            sys.executable,
            "-m",
            "cauce_identity",
            "create-admin",
            "--password-stdin",
            "--company",
            company,
            "--email",
            email,
        ],
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={
            **os.environ,
            "CAUCE_POSTGRES_URL": f"postgresql://postgres@127.0.0.1:{postgres_port}/cauce",
        },
    )
    assert made.returncode == 0, made.stderr


class ServiceProcess:
    """``python -m <module>`` as a real child process, for tests that must kill it: its
    own session (process group), so :meth:`kill` SIGKILLs everything it started, with
    ``env`` on top of ours and its output in ``{workdir}/{name}.log``. Readiness is
    awaited without blocking the test's event loop (which may serve the fakes the
    service talks to)."""

    def __init__(
        self, module: str, env: Mapping[str, str], port: int, workdir: Path, name: str
    ) -> None:
        self.name = name
        self.url = f"http://{LOOPBACK}:{port}"
        self.log_file = workdir / f"{name}.log"
        with self.log_file.open("wb") as log:
            self._process = subprocess.Popen(  # noqa: S603 - our interpreter, a module name
                [sys.executable, "-m", module],
                cwd=workdir,  # no stray .env from the caller's directory
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def wait_ready(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109 - the API
        """Poll ``/readyz`` until it answers 200; fail with the log if the process died."""

        async with httpx.AsyncClient(timeout=1.0) as http:
            try:
                async with asyncio.timeout(timeout):
                    while True:
                        if self._process.poll() is not None:
                            raise AssertionError(f"{self.name} exited early:\n{self.log_tail()}")
                        with contextlib.suppress(httpx.HTTPError):
                            if (await http.get(f"{self.url}/readyz")).status_code == 200:
                                return
                        await asyncio.sleep(0.1)
            except TimeoutError:
                raise AssertionError(f"{self.name} not ready:\n{self.log_tail()}") from None

    @property
    def pid(self) -> int:
        return self._process.pid

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL the process group: no shutdown hook, no ack, no cleanup runs."""
        if self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait(timeout=10)

    async def stop(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - the grace
        """SIGTERM the process group, SIGKILL it after ``timeout``; the wait runs in a
        thread so an in-process fake keeps answering the draining service."""
        if self._process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGTERM)
        try:
            await asyncio.to_thread(self._process.wait, timeout)
        except subprocess.TimeoutExpired:
            self.kill()
