"""What can go wrong talking to Odoo: the runtime's outside-call branches
(:mod:`cauce_runtime._errors`) with Odoo's names::

    OdooError(OutsideCallError)              code = Odoo's exception name, if it sent one
    ├── OdooRejected(PermanentCallError)     AccessError, ValidationError, MissingError...
    └── OdooUnavailable(RetryableCallError)  network, 5xx, 429, session expired, conflicts
        ├── OdooCredentialsRejected(CredentialsRejected)   login or API key refused
        └── OdooOutcomeUnknown(OutcomeUnknown)             Odoo may have done it

Odoo says *what* failed in the exception's fully qualified name (``error.data.name`` in
JSON-RPC, ``name`` in JSON-2), kept as the error's ``code``; the numeric JSON-RPC code
differs across versions and means nothing, so nothing here depends on it. Callers need
three answers:

- :class:`OdooRejected`: Odoo refused this data or operation. Retrying the same call
  fails the same way: the records go to the dead letters with Odoo's message.
- :class:`OdooUnavailable`: Odoo could not answer now. Retry later; ``retry_after``
  when Odoo said. :class:`OdooOutcomeUnknown` when Odoo may have carried the call out
  although we got no answer (a read timeout, a 502/504 from a proxy, a reply we cannot
  read): a ``create`` that may have happened is looked up before it is sent again.
- :class:`OdooCredentialsRejected`: our login or API key was refused. A configuration
  problem, not bad data: the records are kept and retried, and an alert fires.
"""

from __future__ import annotations

import cauce_runtime as runtime
from cauce_runtime import OutcomeUnknown, OutsideCallError, PermanentCallError, RetryableCallError


class OdooError(OutsideCallError):
    """Base of every Odoo failure; ``code`` is Odoo's exception name when it sent one."""

    @property
    def short_name(self) -> str:
        """``ValidationError`` for ``odoo.exceptions.ValidationError``; the HTTP status or
        the exception class for failures without a name."""
        if self.code:
            return self.code.rsplit(".", 1)[-1]
        if self.http_status is not None:
            return f"HTTP {self.http_status}"
        return type(self).__name__

    def __str__(self) -> str:
        return f"{self.short_name}: {self.message}"


class OdooRejected(OdooError, PermanentCallError):
    """Odoo refused the call for good: the same call would fail the same way."""


class OdooUnavailable(OdooError, RetryableCallError):
    """Odoo could not answer now; the call can be retried later."""


class OdooCredentialsRejected(OdooUnavailable, runtime.CredentialsRejected):
    """Odoo refused our login, password or API key."""


class OdooOutcomeUnknown(OdooUnavailable, OutcomeUnknown):
    """No usable answer after the call reached Odoo: it may have been carried out."""
