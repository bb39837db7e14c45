"""PostgreSQL for the services that keep state there: the pool, schema migrations, and a
rate limiter shared by replicas.

It needs asyncpg, the ``postgres`` extra of this package (``cauce-runtime[postgres]``),
so it is not part of :mod:`cauce_runtime`'s top-level names: import it as
``from cauce_runtime import postgres``.
"""

from cauce_runtime.postgres._migrations import (
    MigrationError,
    apply_migrations,
    current_version,
    migration_lock_key,
)
from cauce_runtime.postgres._pool import create_pool, reachable
from cauce_runtime.postgres._rate_limit import Ahead, SharedRateLimiter, SlotTooFar

__all__ = [
    "Ahead",
    "MigrationError",
    "SharedRateLimiter",
    "SlotTooFar",
    "apply_migrations",
    "create_pool",
    "current_version",
    "migration_lock_key",
    "reachable",
]
