"""The notifier's operator HTTP APIs (bearer admin token)."""

from __future__ import annotations

from cauce_notifier.api.admin_channels import CredentialsTester, TestResult, admin_router
from cauce_notifier.api.messages import messages_router

__all__ = ["CredentialsTester", "TestResult", "admin_router", "messages_router"]
