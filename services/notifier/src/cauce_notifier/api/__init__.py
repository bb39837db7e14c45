"""The notifier's operator HTTP APIs (bearer admin token): module-level routers over the
wired :class:`~cauce_notifier.bootstrap.Notifier`."""

from __future__ import annotations

from cauce_notifier.api import admin_channels, messages
from cauce_notifier.credentials_check import CredentialsTester, TestResult

__all__ = ["CredentialsTester", "TestResult", "admin_channels", "messages"]
