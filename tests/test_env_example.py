"""`.env.example` lists every variable a settings class reads, so it cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cauce_console.settings import ConsoleSettings
from pydantic_settings import BaseSettings

from cauce_conversation.settings import ConversationSettings
from cauce_crm_sync.settings import CrmSyncSettings
from cauce_devstack.sandbox.settings import SandboxSettings
from cauce_gateway.settings import GatewaySettings
from cauce_notifier.settings import NotifierSettings
from cauce_payments.settings import PaymentsSettings
from cauce_runtime import ServiceSettings

ENV_EXAMPLE = Path(__file__).resolve().parent.parent / ".env.example"
SETTINGS: list[type[BaseSettings]] = [
    ServiceSettings,
    GatewaySettings,
    ConversationSettings,
    CrmSyncSettings,
    PaymentsSettings,
    NotifierSettings,
    SandboxSettings,
    ConsoleSettings,
]


def documented() -> set[str]:
    return set(re.findall(r"^([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), re.MULTILINE))


@pytest.mark.parametrize("settings_class", SETTINGS, ids=lambda c: c.__name__)
def test_every_setting_is_in_env_example(settings_class: type[BaseSettings]) -> None:
    prefix = settings_class.model_config.get("env_prefix", "")
    expected = {f"{prefix}{name}".upper() for name in settings_class.model_fields}
    missing = sorted(expected - documented())
    assert not missing, f"add to .env.example: {', '.join(missing)}"


@pytest.mark.parametrize("settings_class", SETTINGS, ids=lambda c: c.__name__)
def test_a_copy_of_env_example_is_a_working_env_file(
    settings_class: type[BaseSettings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a new user does first: ``cp .env.example .env``. Its empty values (``KEY=``
    and a comment) mean "the default", never a value that fails to parse."""
    for name in documented():
        monkeypatch.delenv(name, raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text(ENV_EXAMPLE.read_text())
    settings_class(_env_file=env_file)  # type: ignore[call-arg]
