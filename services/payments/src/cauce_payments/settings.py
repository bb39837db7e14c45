"""Payments configuration (``CAUCE_*``; secrets may be files in the secrets dir).

The SCI defaults point at the provider sandbox (``make run``) with its published dev
credentials; outside dev/test the runtime refuses to start with the ``dev-`` password.
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from cauce_contracts.crm import Email
from cauce_runtime import ServiceSettings

#: The sandbox's published dev-only SCI login (cauce_devstack.sandbox.settings).
DEV_SCI_USERNAME = "dev-sci-user"
DEV_SCI_PASSWORD = "dev-only-sci-password"  # noqa: S105 - published dev-only value


class PaymentsSettings(ServiceSettings):
    service_name: str = "payments"
    port: int = 8082

    postgres_url: SecretStr = SecretStr("postgresql://postgres@127.0.0.1:55432/cauce")
    postgres_pool_size: int = Field(default=10, ge=2, le=200)

    #: SCI TOTAL's base URL (the seed's ``NEXT_PUBLIC_TOTAL_SCI_API_URL``, e.g.
    #: ``http://pagossi.sycpruebas.com/SCITOTAL``); the default is the sandbox's fake.
    sci_base_url: str = "http://127.0.0.1:8090/sci"
    sci_username: str = DEV_SCI_USERNAME
    sci_password: SecretStr = SecretStr(DEV_SCI_PASSWORD)
    #: SCI's ``idParametro`` (the collecting entity's configuration) and ``idCliente``.
    sci_id_parametro: str = "1"
    sci_id_cliente: str = "127"
    #: ``email`` sent to CrearTransaccion when the request names none (SCI requires one).
    sci_default_email: Email = "pagos@cauce.example.com"
    #: Seconds per SCI call (connect + read).
    sci_timeout_s: float = Field(default=15.0, gt=0)
    #: Seconds before a transient SCI failure is retried; ``None`` follows the consumer's
    #: backoff (1 s, 5 s, 30 s, 2 min, 10 min). Tests shorten it.
    sci_retry_delay_s: float | None = Field(default=None, gt=0)
