"""Start, watch and stop the local stack: infrastructure, the sandbox and the services.

Every child runs in its own session (process group), so a terminal's Ctrl-C reaches
only the launcher, which then stops everything in reverse start order: SIGTERM to the
whole group, SIGKILL after a timeout. Nothing is left behind unless the launcher
itself is SIGKILLed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cauce_devstack.demo_company import demo_users
from cauce_devstack.sandbox import models
from cauce_devstack.servers.mongo import SecantusServer
from cauce_devstack.servers.nats import NatsServer
from cauce_devstack.servers.nats_keys import NatsKeys, nats_keys_file
from cauce_devstack.servers.ports import LOOPBACK, PortInUseError, port_is_free
from cauce_devstack.servers.postgres import PostgresServer
from cauce_devstack.stack import DEV_ODOO_WEBHOOK_TOKEN, DEV_TENANT, ServiceSpec, StackConfig


class StackStartError(RuntimeError):
    """A component did not come up; the message names it and its log."""


class _Stoppable(Protocol):
    def stop(self) -> None: ...

    def signal_group(self, sig: signal.Signals) -> None: ...

    def crash(self) -> None: ...


@dataclass(frozen=True)
class Endpoint:
    name: str
    url: str
    log: Path | None
    shown_as: str | None = None
    """What the table prints instead of ``url`` (which may hold credentials)."""


class ManagedProcess:
    """A child process in its own process group, logging to ``log_file``."""

    def __init__(
        self, name: str, argv: Sequence[str], env: Mapping[str, str], log_file: Path
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: S603 - argv from our own specs
                self.argv,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process group (graceful drain), SIGKILL it after ``timeout``."""
        process, self._process = self._process, None
        if process is None:
            return
        self._signal_group(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout)
        # the leader may be gone while members it spawned still run: sweep the group
        self._signal_group(process.pid, signal.SIGKILL)
        if process.poll() is None:
            process.wait()

    def signal_group(self, sig: signal.Signals) -> None:
        """Send ``sig`` to the process group (SIGSTOP/SIGCONT stall and resume it)."""
        if self._process is not None:
            self._signal_group(self._process.pid, sig)

    def crash(self) -> None:
        """``kill -9`` the process group: no drain, no shutdown hooks."""
        if self._process is not None:
            self._signal_group(self._process.pid, signal.SIGKILL)
            self._process.wait()

    @staticmethod
    def _signal_group(pgid: int, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)


def wait_healthy(
    process: ManagedProcess, base_url: str, paths: Sequence[str], timeout: float
) -> None:
    """Wait for each of ``paths`` to answer 200, in order; fail fast if the process dies."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0) as client:
        for path in paths:
            while True:
                if not process.running:
                    raise StackStartError(
                        f"{process.name} exited during start-up; see {process.log_file}"
                    )
                try:
                    if client.get(base_url + path).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise StackStartError(
                        f"{process.name} did not answer 200 on {path} within {timeout:.0f}s; "
                        f"see {process.log_file}"
                    )
                time.sleep(0.1)


class Stack:
    """The running stack described by a :class:`StackConfig`."""

    def __init__(self, config: StackConfig, echo: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.echo = echo or (lambda line: print(line, flush=True))
        self._started: list[tuple[str, _Stoppable]] = []
        self._processes: list[ManagedProcess] = []
        self.endpoints: list[Endpoint] = []
        self.nats_url: str | None = None
        self.nats_keys: NatsKeys | None = None
        self.postgres_url: str | None = None
        self.mongo_url: str | None = config.mongodb_url
        self.sandbox_url: str | None = None

    # --- ports ---------------------------------------------------------------------------

    def required_ports(self) -> list[tuple[int, str]]:
        """(port, what needs it) for every port this configuration will bind."""
        ports = self.config.ports
        needed: list[tuple[int, str]] = []
        if self.config.wants("nats"):
            needed += [(ports["nats"], "NATS"), (ports["nats-monitor"], "NATS monitoring")]
        if self.config.wants("postgres"):
            needed.append((ports["postgres"], "PostgreSQL"))
        if self.config.wants("mongo") and self.config.mongodb_url is None:
            needed.append((ports["mongo"], "MongoDB (SecantusDB)"))
        if self.config.wants("sandbox"):
            needed.append((ports["sandbox"], "provider sandbox"))
        needed += [(spec.port, f"{spec.name} service") for spec in self.config.services]
        return needed

    def check_ports(self) -> None:
        """Raise :class:`PortInUseError` for the first needed port that is taken."""
        for port, what in self.required_ports():
            if not port_is_free(port):
                raise PortInUseError(port, what)

    # --- start/stop ------------------------------------------------------------------------

    def start(self) -> None:
        """Check every port, then start each component in order; on failure stop what started."""
        self.check_ports()
        self.config.logs_dir.mkdir(parents=True, exist_ok=True)
        self.config.span_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._start_infra()
            if self.config.wants("sandbox"):
                self._start_sandbox()
            self._start_services()
        except BaseException:
            self.stop()
            raise
        self._write_state_file()

    def _start_infra(self) -> None:
        cfg, ports, logs = self.config, self.config.ports, self.config.logs_dir
        if cfg.wants("nats"):
            self.nats_keys = NatsKeys.kept_in(nats_keys_file(cfg.home))
            auth_conf = cfg.home / "nats-auth" / "auth.conf"
            auth_conf.write_text(self.nats_keys.authorization_conf())
            nats = NatsServer(
                store_dir=cfg.home / "nats",
                port=ports["nats"],
                monitor_port=ports["nats-monitor"],
                log_file=logs / "nats.log",
                config_file=auth_conf,
            )
            self._start_server("nats", nats, nats.start)
            self.nats_url = nats.url
            self.endpoints.append(Endpoint("nats", nats.url, nats.log_file))
            self.endpoints.append(Endpoint("nats-monitor", nats.monitor_url, None))
        if cfg.wants("postgres"):
            postgres = PostgresServer(
                cfg.home / "postgres", port=ports["postgres"], log_file=logs / "postgres.log"
            )
            self._start_server("postgres", postgres, postgres.start)
            self.postgres_url = postgres.app_url
            self.endpoints.append(Endpoint("postgres", postgres.app_url, postgres.log_file))
        if cfg.wants("mongo"):
            if cfg.mongodb_url is not None:
                self.mongo_url = cfg.mongodb_url
                self.endpoints.append(
                    Endpoint("mongo", cfg.mongodb_url, None, shown_as="MongoDB from MONGODB_URL")
                )
            else:
                mongo = SecantusServer(
                    cfg.home / "mongo", port=ports["mongo"], log_file=logs / "mongo.log"
                )
                self._start_server("mongo", mongo, mongo.start)
                self.mongo_url = mongo.url
                self.endpoints.append(
                    Endpoint(
                        "mongo", mongo.url, mongo.log_file, shown_as=f"{mongo.url} (SecantusDB)"
                    )
                )

    def _start_server(self, name: str, server: _Stoppable, start: Callable[[], None]) -> None:
        self.echo(f"starting {name} ...")
        self._started.append((name, server))
        try:
            start()
        except (TimeoutError, RuntimeError, OSError, subprocess.CalledProcessError) as error:
            if isinstance(error, PortInUseError):
                raise
            raise StackStartError(f"{name} failed to start: {error}") from error

    def _start_sandbox(self) -> None:
        port = self.config.ports["sandbox"]
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "CAUCE_SANDBOX_HOST": LOOPBACK,
            "CAUCE_SANDBOX_PORT": str(port),
            "CAUCE_SANDBOX_GATEWAY_URL": f"http://{LOOPBACK}:{self.config.ports['gateway']}",
            # SCI transaction ids must not repeat across restarts (the stores keep theirs).
            "CAUCE_SANDBOX_SCI_FIRST_TRANSACTION_ID": str(int(time.time())),
            # the Odoo fake's automation rule: edited leads go back to cauce
            "CAUCE_SANDBOX_ODOO_WEBHOOK_URL": (
                f"http://{LOOPBACK}:{self.config.ports['gateway']}"
                f"/webhooks/odoo/{DEV_ODOO_WEBHOOK_TOKEN}"
            ),
        }
        spec = ServiceSpec("sandbox", "cauce_devstack.sandbox", port)
        self._launch([spec], {"sandbox": env})
        self.sandbox_url = f"http://{LOOPBACK}:{port}"

    def service_env(self, spec: ServiceSpec) -> dict[str, str]:
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "CAUCE_PORT": str(spec.port),
            "CAUCE_ENVIRONMENT": "dev",
            "CAUCE_SPAN_FILE": str(self.config.span_file),
        }
        optional = {
            "CAUCE_NATS_URL": self.nats_url,
            "CAUCE_POSTGRES_URL": self.postgres_url,
            "CAUCE_MONGODB_URL": self.mongo_url,
        }
        if self.sandbox_url is not None:  # the providers' fakes, at their usual paths
            optional["CAUCE_GRAPH_BASE_URL"] = f"{self.sandbox_url}/graph"
            optional["CAUCE_CHATTIGO_BASE_URL"] = f"{self.sandbox_url}/chattigo"
            optional["CAUCE_YCLOUD_BASE_URL"] = f"{self.sandbox_url}/ycloud"
            optional["CAUCE_SCI_BASE_URL"] = f"{self.sandbox_url}/sci"
            optional["CAUCE_ODOO_URL"] = f"{self.sandbox_url}/odoo"
            optional["CAUCE_AI_ENDPOINTS"] = json.dumps(models.endpoints_at(self.sandbox_url))
            optional["CAUCE_AI_PRICES"] = json.dumps(models.DEV_PRICES)
        if "crm-sync" in self.config.ports:  # lead audiences of the notifier's campaigns
            optional["CAUCE_CRM_SYNC_URL"] = f"http://{LOOPBACK}:{self.config.ports['crm-sync']}"
        if "notifier" in self.config.ports:  # campaigns' short links, opened locally
            optional["CAUCE_SHORT_LINK_BASE_URL"] = (
                f"http://{LOOPBACK}:{self.config.ports['notifier']}"
            )
        user = bus_user(spec)
        if self.nats_keys is not None and user in self.nats_keys.seeds:
            optional["CAUCE_NATS_NKEY_SEED"] = self.nats_keys.seed_for(user)  # signs in as itself
        if spec.name == "identity":  # logins survive a restart of the dev stack
            optional["CAUCE_SIGNING_KEY"] = dev_signing_key(self.config.home)
        env.update({key: value for key, value in optional.items() if value is not None})
        env.update(spec.extra_env)
        return env

    def _start_services(self) -> None:
        specs = list(self.config.services)
        self._launch(specs, {spec.name: self.service_env(spec) for spec in specs})

    def _launch(self, specs: Sequence[ServiceSpec], envs: Mapping[str, Mapping[str, str]]) -> None:
        """Start all of ``specs`` at once (they boot in parallel), then wait for each."""
        launched: list[tuple[ServiceSpec, ManagedProcess]] = []
        for spec in specs:
            self.echo(f"starting {spec.name} ...")
            process = ManagedProcess(
                spec.name,
                spec.command(),
                envs[spec.name],
                self.config.logs_dir / f"{spec.name}.log",
            )
            self._started.append((spec.name, process))
            self._processes.append(process)
            process.start()
            launched.append((spec, process))
        for spec, process in launched:
            url = f"http://{LOOPBACK}:{spec.port}"
            wait_healthy(
                process, url, [spec.health_path, spec.ready_path], self.config.health_timeout
            )
            self.endpoints.append(Endpoint(spec.name, url, process.log_file))

    def stop(self) -> None:
        """Stop every started component, newest first; safe to call twice."""
        while self._started:
            name, component = self._started.pop()
            try:
                component.stop()
            except Exception as error:  # keep stopping the rest
                self.echo(f"error while stopping {name}: {error!r}")
        self._processes.clear()
        self.state_file.unlink(missing_ok=True)

    # --- faults (make chaos) ----------------------------------------------------------------

    def component(self, name: str) -> _Stoppable:
        """The started component called ``name`` (a service, ``nats``, ``postgres``...)."""
        for started, component in reversed(self._started):
            if started == name:
                return component
        raise KeyError(f"no component {name!r}; started: {[n for n, _ in self._started]}")

    def restart(self, name: str) -> None:
        """Start ``name`` again after a crash (same ports, same data), and wait until it
        is healthy."""
        component = self.component(name)
        if isinstance(component, ManagedProcess):
            spec = next(s for s in self.config.services if s.name == name)
            component.start()
            url = f"http://{LOOPBACK}:{spec.port}"
            wait_healthy(component, url, [spec.health_path], self.config.health_timeout)
        else:
            start = getattr(component, "start", None)
            if start is None:
                raise KeyError(f"{name} cannot be restarted")
            start()

    def dead_process(self) -> ManagedProcess | None:
        """A managed child that exited on its own, if any."""
        return next((p for p in self._processes if not p.running), None)

    # --- reporting -------------------------------------------------------------------------

    @property
    def state_file(self) -> Path:
        return self.config.home / "stack.json"

    def _write_state_file(self) -> None:
        """``.cauce/stack.json``: where everything runs, for ``make demo`` and friends."""
        state = {
            "pid": os.getpid(),
            "endpoints": {e.name: e.url for e in self.endpoints},
            "logs": {e.name: str(e.log) for e in self.endpoints if e.log is not None},
        }
        self.state_file.write_text(json.dumps(state, indent=2) + "\n")
        self.state_file.chmod(0o600)  # may hold a MONGODB_URL with a password

    def table(self) -> str:
        rows = [("component", "url", "log")]
        for e in self.endpoints:
            rows.append((e.name, e.shown_as or e.url, _relative(e.log) if e.log else "-"))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows
        ]
        return "\n".join(line.rstrip() for line in lines)


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


READY_LINE = "cauce devstack is up"


def run(config: StackConfig, poll_interval: float = 0.5) -> int:
    """Run the stack in the foreground until SIGINT/SIGTERM or a child dies; exit code."""

    def _interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _interrupt)
    stack = Stack(config)
    code = 0
    try:
        stack.start()
        print(f"\n{READY_LINE} (data in {_relative(config.home)})\n{stack.table()}", flush=True)
        _print_demo_logins(stack)
        print("\nCtrl-C stops everything.", flush=True)
        while True:
            time.sleep(poll_interval)
            dead = stack.dead_process()
            if dead is not None:
                print(f"{dead.name} exited unexpectedly; see {dead.log_file}", file=sys.stderr)
                code = 1
                break
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # do not interrupt the shutdown itself
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            stack.stop()
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, previous)
    print("stopped.", flush=True)
    return code


#: How the launcher prints each demo login (tests read them back from the output).
DEMO_LOGIN_LINE = "  {role:<6} {email}  password: {password}"


def _print_demo_logins(stack: Stack) -> None:
    """Dev only: the demo company's admin and agent, with passwords made for this run."""
    ports = stack.config.ports
    if "console" not in stack.config.components or stack.postgres_url is None:
        return
    logins = demo_users(stack.postgres_url, DEV_TENANT)
    print(f"\nconsole: http://{LOOPBACK}:{ports['console']}  (company {DEV_TENANT})", flush=True)
    for login in logins:
        print(DEMO_LOGIN_LINE.format(**vars(login)), flush=True)
    print("  (dev only: new passwords at every make run)", flush=True)


def bus_user(spec: ServiceSpec) -> str:
    """The NATS user a service signs in as: its package's name (``cauce_crm_sync`` ->
    ``crm-sync``), so a second replica under another name is the same user."""
    return spec.module.removeprefix("cauce_").replace("_", "-")


def dev_signing_key(home: Path) -> str:
    """The dev stack's identity signing key (Ed25519, PEM): made at the first ``make
    run`` and kept in ``.cauce/identity/`` (readable by its owner only)."""
    path = home / "identity" / "signing_key.pem"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.touch(mode=0o600)
        path.write_bytes(pem)
    return path.read_text()
