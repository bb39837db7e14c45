"""How a service signs in to NATS: its NKEY (or a credentials file) and TLS.

One place builds the options, so the bus and the provisioning command connect alike.
"""

from __future__ import annotations

import ssl
from typing import Any

from cauce_runtime._settings import ServiceSettings


def sign_in_options(settings: ServiceSettings) -> dict[str, Any]:
    """``nats.connect`` keyword arguments for ``settings``' credentials and TLS."""
    options: dict[str, Any] = {}
    if settings.nats_nkey_seed is not None:
        options["nkeys_seed_str"] = settings.nats_nkey_seed.get_secret_value().strip()
    if settings.nats_credentials_file is not None:
        options["user_credentials"] = str(settings.nats_credentials_file)
    context = tls_context(settings)
    if context is not None:
        options["tls"] = context
    return options


def tls_context(settings: ServiceSettings) -> ssl.SSLContext | None:
    """A verifying client context when a CA or client certificate is configured (or
    the URL asks for ``tls://``); None for plain connections."""
    wants_tls = settings.nats_url.startswith("tls://")
    if settings.nats_ca_file is None and settings.nats_tls_cert_file is None and not wants_tls:
        return None
    cafile = str(settings.nats_ca_file) if settings.nats_ca_file is not None else None
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if settings.nats_tls_cert_file is not None and settings.nats_tls_key_file is not None:
        context.load_cert_chain(settings.nats_tls_cert_file, settings.nats_tls_key_file)
    return context
