"""PostgreSQL storage of the notifier (schema ``notifier``)."""

from __future__ import annotations

from cauce_notifier.store.accounts import (
    AccountInfo,
    AccountStore,
    CredentialsMismatch,
    DuplicateAccount,
)
from cauce_notifier.store.messages import (
    MessagePage,
    MessageRecord,
    MessageStore,
    StatusChange,
    StatusEntry,
)
from cauce_notifier.store.migrations import migrate

__all__ = [
    "AccountInfo",
    "AccountStore",
    "CredentialsMismatch",
    "DuplicateAccount",
    "MessagePage",
    "MessageRecord",
    "MessageStore",
    "StatusChange",
    "StatusEntry",
    "migrate",
]
