"""Settings: CAUCE_ env vars, secret files, and placeholder secrets refused outside dev."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from cauce_runtime import ServiceSettings


class WebhookSettings(ServiceSettings):
    meta_app_secret: SecretStr = SecretStr("change-me")


def test_env_prefix_and_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAUCE_NATS_URL", "nats://10.0.0.1:4222")
    monkeypatch.setenv("CAUCE_PORT", "8085")
    settings = ServiceSettings(_env_file=None)
    assert settings.nats_url == "nats://10.0.0.1:4222"
    assert settings.port == 8085
    assert settings.publish_timeout_s == 2.0
    assert settings.environment == "dev"


@pytest.mark.parametrize("environment", ["dev", "test"])
def test_placeholders_are_accepted_in_dev_and_test(environment: str) -> None:
    settings = WebhookSettings(environment=environment, _env_file=None)  # type: ignore[arg-type]
    assert settings.meta_app_secret.get_secret_value() == "change-me"


@pytest.mark.parametrize(
    "placeholder", ["change-me", "changeme", "dev-anything", "", "secret", "password", "test"]
)
def test_placeholders_are_refused_in_prod_naming_the_env_var(placeholder: str) -> None:
    with pytest.raises(ValidationError) as error:
        WebhookSettings(
            environment="prod",
            contact_key_secret=SecretStr("a-real-key-8f2c91"),
            meta_app_secret=SecretStr(placeholder),
            _env_file=None,
        )
    assert "CAUCE_META_APP_SECRET" in str(error.value)
    assert "CAUCE_CONTACT_KEY_SECRET" not in str(error.value)


def test_default_contact_key_secret_is_refused_in_prod() -> None:
    with pytest.raises(ValidationError, match="CAUCE_CONTACT_KEY_SECRET"):
        ServiceSettings(environment="prod", _env_file=None)


def test_secrets_are_read_from_the_secrets_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cauce_contact_key_secret").write_text("k8s-mounted-key-31f9\n")
    (tmp_path / "cauce_meta_app_secret").write_text("meta-app-secret-77aa")
    (tmp_path / "cauce_nats_nkey_seed").write_text("SUAEXAMPLESEEDFROMAMOUNTEDSECRET\n")
    monkeypatch.setenv("CAUCE_SECRETS_DIR", str(tmp_path))
    settings = WebhookSettings(environment="prod", _env_file=None)
    assert settings.nats_nkey_seed is not None
    assert settings.contact_key_secret.get_secret_value() == "k8s-mounted-key-31f9"
    assert settings.meta_app_secret.get_secret_value() == "meta-app-secret-77aa"
    assert "k8s-mounted" not in repr(settings)


def test_env_file_is_read(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("CAUCE_SERVICE_NAME=from-dotenv\nCAUCE_LOG_LEVEL=DEBUG\n")
    settings = ServiceSettings(_env_file=env_file)
    assert settings.service_name == "from-dotenv"
    assert settings.log_level == "DEBUG"


def test_placeholders_inside_lists_and_nested_models_are_refused_in_prod() -> None:
    from pydantic import BaseModel as _Model

    class Account(_Model):
        tenant_id: str
        api_key: SecretStr

    class WithAccounts(ServiceSettings):
        accounts: list[Account] = []
        rotated: list[SecretStr] = []

    with pytest.raises(ValidationError, match="CAUCE_ACCOUNTS"):
        WithAccounts(
            environment="prod",
            contact_key_secret="k" * 32,
            accounts=[{"tenant_id": "acme", "api_key": "dev-key"}],
        )
    with pytest.raises(ValidationError, match="CAUCE_ROTATED"):
        WithAccounts(
            environment="prod", contact_key_secret="k" * 32, rotated=["real-secret-1", "change-me"]
        )
    ok = WithAccounts(
        environment="prod",
        contact_key_secret="k" * 32,
        nats_nkey_seed="SUAEXAMPLESEED",
        accounts=[{"tenant_id": "acme", "api_key": "a-real-key-9f8e7d"}],
    )
    assert ok.accounts[0].tenant_id == "acme"


def test_change_me_placeholders_of_any_length_are_placeholders() -> None:
    """.env.example's long placeholders (they must pass length checks) are still refused."""
    from cauce_runtime._settings import is_placeholder_secret

    assert is_placeholder_secret("change-me-to-an-unguessable-url-token")
    assert is_placeholder_secret("change-me")
    assert not is_placeholder_secret("c7a1d0e5b9f24c8e8f1a6b3d2e4f5a6b")
