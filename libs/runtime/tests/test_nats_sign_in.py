"""Each service signs in to NATS as itself and can do only what
``cauce_contracts.bus_access`` grants it; TLS verifies the server with the CA given.

A real nats-server with the rendered ``authorization`` block (the same the dev stack
and deploy/ use): nobody gets in anonymously, the gateway cannot publish a message to
deliver nor read the outbound stream, the notifier cannot forge a customer's message.
"""

from __future__ import annotations

import datetime
import ipaddress
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import nats.errors
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from cauce_contracts.bus_access import ACCESS
from cauce_contracts.envelope import stable_event_id
from cauce_contracts.streams import OUTBOUND
from cauce_devstack.servers.nats import NatsServer
from cauce_devstack.servers.nats_keys import NatsKeys, nats_keys_file
from cauce_runtime import Bus, ServiceSettings
from cauce_runtime.bus._connection import sign_in_options


@pytest.fixture
def keys(tmp_path: Path) -> NatsKeys:
    return NatsKeys.kept_in(nats_keys_file(tmp_path))


@pytest.fixture
def secured(tmp_path: Path, keys: NatsKeys) -> Iterator[NatsServer]:
    conf = tmp_path / "auth.conf"
    conf.write_text(keys.authorization_conf())
    server = NatsServer(tmp_path / "nats", config_file=conf)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def settings_of(server: NatsServer, keys: NatsKeys, user: str, **extra: object) -> ServiceSettings:
    values: dict[str, object] = {
        "environment": "test",
        "service_name": user,
        "nats_url": server.url,
        "nats_nkey_seed": SecretStr(keys.seed_for(user)),
        **extra,
    }
    return ServiceSettings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture
async def provisioned(secured: NatsServer, keys: NatsKeys) -> AsyncIterator[NatsServer]:
    bus = Bus(settings_of(secured, keys, "provisioning"))
    await bus.start()  # every stream, as the provisioning job does
    await bus.stop()
    yield secured


async def test_nobody_gets_in_without_a_key(secured: NatsServer) -> None:
    with pytest.raises((nats.errors.Error, OSError)):
        await nats.connect(secured.url, allow_reconnect=False, max_reconnect_attempts=1)


async def test_a_service_publishes_its_events_and_nothing_else(
    provisioned: NatsServer, keys: NatsKeys
) -> None:
    violations: list[str] = []

    async def noted(error: Exception) -> None:
        violations.append(str(error))

    async def connect(user: str) -> nats.NATS:
        return await nats.connect(
            provisioned.url,
            error_cb=noted,
            **sign_in_options(settings_of(provisioned, keys, user)),
        )

    gateway, notifier = await connect("gateway"), await connect("notifier")
    try:
        js = gateway.jetstream()
        ack = await js.publish("inbound.message.received.acme.whatsapp.k1", b"{}", timeout=2)
        assert ack.stream == "INBOUND"
        with pytest.raises((nats.errors.TimeoutError, nats.errors.NoRespondersError)):
            await js.publish("outbound.message.requested.acme.whatsapp.k1", b"{}", timeout=1)
        with pytest.raises((nats.errors.TimeoutError, nats.errors.NoRespondersError)):
            await js.pull_subscribe("outbound.>", durable="snoop", stream=OUTBOUND.name)
        with pytest.raises((nats.errors.TimeoutError, nats.errors.NoRespondersError)):
            await notifier.jetstream().publish(
                "inbound.message.received.acme.whatsapp.k1", b"{}", timeout=1
            )
        sent = await notifier.jetstream().publish(
            "outbound.message.sent.acme.whatsapp.k1",
            b"{}",
            timeout=2,
            headers={"Nats-Msg-Id": str(stable_event_id(uuid.uuid4().hex))},
        )
        assert sent.stream == OUTBOUND.name
    finally:
        await gateway.close()
        await notifier.close()
    denied = " ".join(violations).lower()
    assert 'violation for publish to "outbound.message.requested' in denied
    assert 'violation for publish to "$js.api.consumer.info.outbound.snoop"' in denied
    assert 'violation for publish to "inbound.message.received' in denied


async def test_every_service_starts_its_bus_under_its_own_grants(
    provisioned: NatsServer, keys: NatsKeys
) -> None:
    """Each service's bus provisions the streams and binds its durables at start: the
    grants must cover that (the full stack then runs on them, see ``make run``)."""
    for user in ACCESS:
        bus = Bus(settings_of(provisioned, keys, user))
        await bus.start()
        assert bus.connected, user
        await bus.stop()


# --- TLS -----------------------------------------------------------------------------


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A CA, and a server certificate it signed for 127.0.0.1: (ca, cert, key)."""
    now = datetime.datetime.now(datetime.UTC)

    def issue(
        subject: str,
        key: ec.EllipticCurvePrivateKey,
        issuer_key: ec.EllipticCurvePrivateKey,
        issuer: str,
        *,
        ca: bool,
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, server_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca = issue("cauce test CA", ca_key, ca_key, "cauce test CA", ca=True)
    server = issue("nats", server_key, ca_key, "cauce test CA", ca=False)
    paths = directory / "ca.pem", directory / "server.pem", directory / "server-key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


async def test_tls_verifies_the_server_with_the_ca_given(tmp_path: Path, keys: NatsKeys) -> None:
    ca, cert, key = _certificates(tmp_path)
    conf = tmp_path / "tls.conf"
    conf.write_text(
        keys.authorization_conf()
        + f'tls: {{ cert_file: "{cert}", key_file: "{key}", timeout: 2 }}\n'
    )
    server = NatsServer(tmp_path / "nats", config_file=conf)
    server.start()
    try:
        bus = Bus(settings_of(server, keys, "gateway", nats_ca_file=ca))
        await bus.start()
        assert bus.connected
        await bus.stop()

        stranger = settings_of(server, keys, "gateway", nats_url=f"tls://127.0.0.1:{server.port}")
        with pytest.raises((nats.errors.Error, OSError)):  # the system CAs do not know it
            await nats.connect(
                stranger.nats_url,
                allow_reconnect=False,
                max_reconnect_attempts=1,
                **sign_in_options(stranger),
            )
    finally:
        server.stop()


def test_two_ways_to_sign_in_are_refused_and_prod_must_sign_in() -> None:
    with pytest.raises(ValueError, match="not both"):
        ServiceSettings(
            _env_file=None,  # type: ignore[call-arg]
            nats_nkey_seed=SecretStr("SU..."),
            nats_credentials_file=Path("x.creds"),
        )
    with pytest.raises(ValueError, match="CAUCE_NATS_NKEY_SEED"):
        ServiceSettings(
            _env_file=None,  # type: ignore[call-arg]
            environment="prod",
            contact_key_secret=SecretStr("a real contact key secret"),
        )
