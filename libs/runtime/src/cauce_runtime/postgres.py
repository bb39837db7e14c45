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


def create_pool(dsn: SecretStr, max_size: int) -> asyncpg.Pool:
    """The service's pool, not yet opened: ``await`` it at start, before the bus starts
    (asyncpg pools bind to the loop that opens them; see ``cauce_runtime.app.run``)."""
    return asyncpg.create_pool(
        dsn.get_secret_value(), min_size=1, max_size=max_size, timeout=CONNECT_TIMEOUT_S
    )


def reachable(pool: asyncpg.Pool) -> Callable[[], Awaitable[bool]]:
    """A ``/readyz`` check: PostgreSQL answers a query through ``pool``."""

    async def postgres_reachable() -> bool:
        return bool(await pool.fetchval("SELECT 1") == 1)

    return postgres_reachable
