"""The PostgreSQL pool of a service that keeps its state there (payments, notifier,
crm-sync): built one way, checked one way.

asyncpg is the ``postgres`` extra of this package (``cauce-runtime[postgres]``): only
services that use PostgreSQL import this module.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
from pydantic import SecretStr

#: Seconds to open one connection before giving up (readiness fails instead of hanging).
CONNECT_TIMEOUT_S = 5.0


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Release without asyncpg's session reset (see :func:`create_pool`)."""


def create_pool(dsn: SecretStr, max_size: int, *, session_state: bool = False) -> asyncpg.Pool:
    """The service's pool, not yet opened: ``await`` it at start, before the bus starts
    (asyncpg pools bind to the loop that opens them; see ``cauce_runtime.run``).

    asyncpg resets every connection it takes back (``pg_advisory_unlock_all(); CLOSE
    ALL; UNLISTEN *; RESET ALL``): one more round trip per pooled query, which on the
    notifier's send path was as many round trips as the queries themselves. Services
    that leave no session state behind (no session advisory locks, ``LISTEN`` or
    ``SET``) keep the default ``session_state=False``: a released connection only has
    an open transaction rolled back (asyncpg always does that). A service that does use
    session state (crm-sync's reconciliation lock) passes ``session_state=True`` and
    keeps the full reset as a safety net.
    """
    return asyncpg.create_pool(
        dsn.get_secret_value(),
        min_size=1,
        max_size=max_size,
        timeout=CONNECT_TIMEOUT_S,
        reset=None if session_state else _keep_session,
    )


def reachable(pool: asyncpg.Pool) -> Callable[[], Awaitable[bool]]:
    """A ``/readyz`` check: PostgreSQL answers a query through ``pool``."""

    async def postgres_reachable() -> bool:
        return bool(await pool.fetchval("SELECT 1") == 1)

    return postgres_reachable
