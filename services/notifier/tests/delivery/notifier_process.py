"""``python -m cauce_notifier`` as a real child process, for tests that must kill it.

The child runs in its own session (process group) so ``kill()`` can SIGKILL everything
it started; readiness is awaited without blocking the test's event loop (which may be
serving the sandbox the notifier talks to).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from cauce_devstack.sandbox.settings import DEV_WABA_ID
from cauce_devstack.testing import ServiceProcess

from .conftest import CONTACT_SECRET, GRAPH_TOKEN, MINTER, PHONE_NUMBER_ID, TENANT

#: The crash tests' delivery claim (and request consumers' ack wait), in seconds.
CLAIM_S = 5
#: How long their maybe-sent messages wait for the status naming them, in seconds.
SEND_OUTCOME_WAIT_S = 20


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
        # a dead process's claims and unacked deliveries lapse after this (30 s in
        # production), so a crash test waits seconds, not half a minute
        "CAUCE_DELIVERY_CLAIM_S": str(CLAIM_S),
        # a call the dead process marked but never made waits this long (after the
        # restart) for a status that cannot come, then goes (60 s in production)
        "CAUCE_SEND_OUTCOME_WAIT_S": str(SEND_OUTCOME_WAIT_S),
        "CAUCE_PROVIDER_TIMEOUT_S": "3",
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


class NotifierProcess(ServiceProcess):
    """One notifier process, started with ``env`` on top of ours, output to ``log_file``."""

    def __init__(self, env: Mapping[str, str], port: int, workdir: Path, name: str) -> None:
        super().__init__("cauce_notifier", env, port, workdir, name)
