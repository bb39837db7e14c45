"""PostgreSQL schema ``payments``: link requests (the idempotency record of every SCI
transaction) and debt lookups (audit)."""

from cauce_payments.store.links import Claim, ClaimKind, LinkRecord, LinkStore
from cauce_payments.store.lookups import LookupStore
from cauce_payments.store.migrations import migrate

__all__ = ["Claim", "ClaimKind", "LinkRecord", "LinkStore", "LookupStore", "migrate"]
