"""What can go wrong talking to Odoo, drawn in one place.

Odoo says *what* failed in the exception's fully qualified name (``error.data.name`` in
JSON-RPC, ``name`` in JSON-2); the numeric ``code`` differs across versions and means
nothing, so nothing here depends on it. Callers only ever need three answers:

- :class:`OdooRejected`: Odoo refused this data or operation (AccessError,
  ValidationError, MissingError, UserError, ValueError...). Retrying the same call
  fails the same way: the records go to the dead letters with Odoo's message.
- :class:`OdooUnavailable`: Odoo could not answer now (network, timeout, 5xx, 429,
  session expired, a concurrent update). Retry later; ``retry_after`` when Odoo said.
- :class:`OdooCredentialsRejected`: our login or API key was refused. A configuration
  problem, not bad data: the records are kept and retried, and an alert fires.

``maybe_applied`` says whether Odoo may have carried the call out even though we got no
answer (a read timeout, a 502/504 from a proxy): a ``create`` that may have happened
must be looked up before it is sent again.
"""

from __future__ import annotations


class OdooError(Exception):
    """Base of every Odoo failure."""

    def __init__(
        self,
        message: str,
        *,
        name: str | None = None,
        status: int | None = None,
        maybe_applied: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        #: Odoo's exception name (``odoo.exceptions.ValidationError``), when it sent one.
        self.name = name
        #: The HTTP status of the answer, when there was one.
        self.status = status
        self.maybe_applied = maybe_applied

    @property
    def short_name(self) -> str:
        """``ValidationError`` for ``odoo.exceptions.ValidationError``; the HTTP status or
        the exception class for failures without a name."""
        if self.name:
            return self.name.rsplit(".", 1)[-1]
        if self.status is not None:
            return f"HTTP {self.status}"
        return type(self).__name__

    def __str__(self) -> str:
        return f"{self.short_name}: {self.message}"


class OdooRejected(OdooError):
    """Odoo refused the call for good: the same call would fail the same way."""


class OdooUnavailable(OdooError):
    """Odoo could not answer now; the call can be retried later."""

    def __init__(
        self,
        message: str,
        *,
        name: str | None = None,
        status: int | None = None,
        maybe_applied: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, name=name, status=status, maybe_applied=maybe_applied)
        #: Seconds Odoo asked us to wait (``Retry-After``), when it did.
        self.retry_after = retry_after


class OdooCredentialsRejected(OdooUnavailable):
    """Odoo refused our login, password or API key."""
