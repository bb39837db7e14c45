"""``python -m cauce_notifier`` as a real child process, for tests that must kill it.

The child runs in its own session (process group) so ``kill()`` can SIGKILL everything
it started; readiness is awaited without blocking the test's event loop (which may be
serving the sandbox the notifier talks to).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import httpx

from cauce_devstack.sandbox.settings import DEV_WABA_ID

from .conftest import CONTACT_SECRET, GRAPH_TOKEN, MINTER, PHONE_NUMBER_ID, TENANT


def notifier_env(
    nats_url: str,
    database_url: str,
    sandbox_url: str,
    port: int,
    *,
    rate_per_second: float,
    **account: str,
) -> dict[str, str]:
    """The environment of a test notifier sending as the tests' WhatsApp account at
    ``rate_per_second`` (``account``: more fields of it, e.g. its WABA)."""
    declared = {
        "tenant_id": TENANT,
        "channel": "whatsapp",
        "account_id": PHONE_NUMBER_ID,
        "rate_per_second": rate_per_second,
        **account,
        "credentials": {"access_token": GRAPH_TOKEN},
    }
    return {
        "CAUCE_ENVIRONMENT": "test",
        "CAUCE_PORT": str(port),
        "CAUCE_NATS_URL": nats_url,
        "CAUCE_POSTGRES_URL": database_url,
        "CAUCE_GRAPH_BASE_URL": f"{sandbox_url}/graph",
        "CAUCE_ACCOUNTS": json.dumps([declared]),
        "CAUCE_CONTACT_KEY_SECRET": CONTACT_SECRET.decode(),
        "CAUCE_SPAN_FILE": "spans.jsonl",
        "CAUCE_LOG_LEVEL": "WARNING",
        "CAUCE_IDENTITY_PUBLIC_KEYS": json.dumps(MINTER.jwks),
    }


def campaign_notifier_env(
    nats_url: str,
    database_url: str,
    sandbox_url: str,
    port: int,
    *,
    rate_per_second: float,
) -> dict[str, str]:
    """:func:`notifier_env` for campaign tests: the account in the sandbox's WABA, quick
    dispatcher rounds, templates synced on demand (callers use ``MINTER``'s tokens)."""
    env = notifier_env(
        nats_url,
        database_url,
        sandbox_url,
        port,
        rate_per_second=rate_per_second,
        business_account_id=DEV_WABA_ID,
    )
    return {
        **env,
        "CAUCE_CAMPAIGN_TICK_S": "0.05",
        "CAUCE_TEMPLATE_SYNC_INTERVAL_S": "0",
    }


class NotifierProcess:
    """One notifier process, started with ``env`` on top of ours, output to ``log_file``."""

    def __init__(self, env: Mapping[str, str], port: int, workdir: Path, name: str) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log_file = workdir / f"{name}.log"
        with self.log_file.open("wb") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "cauce_notifier"],
                cwd=workdir,  # no stray .env from the caller's directory
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def wait_ready(self, timeout: float = 30.0) -> None:
        """Poll ``/readyz`` until it answers 200; fail with the log if the process died."""
        async with httpx.AsyncClient(timeout=1.0) as http:
            try:
                async with asyncio.timeout(timeout):
                    while True:
                        if self._process.poll() is not None:
                            raise AssertionError(f"notifier exited early:\n{self.log_tail()}")
                        with contextlib.suppress(httpx.HTTPError):
                            if (await http.get(f"{self.url}/readyz")).status_code == 200:
                                return
                        await asyncio.sleep(0.1)
            except TimeoutError:
                raise AssertionError(f"notifier not ready:\n{self.log_tail()}") from None

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

    async def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process group, SIGKILL it after ``timeout``; the wait runs in a
        thread so an in-process sandbox keeps answering the draining notifier."""
        if self._process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGTERM)
        try:
            await asyncio.to_thread(self._process.wait, timeout)
        except subprocess.TimeoutExpired:
            self.kill()
