"""SCI TOTAL (debt lookup and payment transactions): the only package that knows SCI's
URLs and field names."""

from cauce_payments.sci_total.client import CreatedTransaction, SciTotalClient
from cauce_payments.sci_total.errors import (
    SciAuthFailed,
    SciError,
    SciOutcomeUnknown,
    SciRejected,
    SciUnavailable,
)

__all__ = [
    "CreatedTransaction",
    "SciAuthFailed",
    "SciError",
    "SciOutcomeUnknown",
    "SciRejected",
    "SciTotalClient",
    "SciUnavailable",
]
