"""Who may do what on the bus: one NATS user per service, allowed only its subjects.

Each service signs in with its own NKEY (``CAUCE_NATS_NKEY_SEED``); the server knows
only the public keys and grants each the permissions rendered here:

- **events**: publish only the event subjects the service produces (the gateway may
  write ``inbound.>`` but not ``outbound.>``: a compromised gateway cannot send a
  WhatsApp message; the notifier cannot forge a customer's message);
- **its durables**: read, acknowledge and dead-letter only on the durable consumers of
  its own :data:`~cauce_contracts.streams.SUBSCRIPTIONS` (named after the service),
  so it cannot open a consumer on a stream it has no business reading;
- **streams**: look up and create/update the cauce streams (every service provisions
  them idempotently at start), never delete or purge one;
- **buckets**: write the key-value and object buckets it owns, read (watch) the ones
  it follows.

``python -m cauce_contracts.bus_access PUBLIC_KEYS.json`` prints the ``authorization``
block for ``nats.conf`` (``deploy/README.md``, "NATS users and TLS"); ``--permissions``
prints every user's permissions as JSON (the helm chart's ``files/bus-permissions.json``,
which it combines with the public keys in its values). The devstack renders the same
block for ``make run``'s NATS, so every full-stack test runs the services under exactly
these permissions.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cauce_contracts.channel_routes import CHANNEL_ROUTES_BUCKET
from cauce_contracts.identity import (
    COMPANY_SETTINGS_BUCKET,
    REVOKED_SESSIONS_BUCKET,
    SIGNING_KEYS_BUCKET,
)
from cauce_contracts.media import MEDIA_BUCKET
from cauce_contracts.streams import INBOX, STREAMS, SUBSCRIPTIONS, Subscription

#: Every service verifies access tokens against the identity service's keys.
_IDENTITY_BUCKETS = (SIGNING_KEYS_BUCKET, REVOKED_SESSIONS_BUCKET)


@dataclass(frozen=True)
class Access:
    """What one service does on the bus."""

    service: str
    #: Event subjects it publishes (NATS wildcards).
    publishes: tuple[str, ...] = ()
    #: Key-value buckets it writes (and may create).
    kv_writes: tuple[str, ...] = ()
    #: Key-value buckets it only reads or watches (and may create empty).
    kv_reads: tuple[str, ...] = _IDENTITY_BUCKETS
    #: Object-store buckets it reads and writes.
    objects: tuple[str, ...] = ()
    #: Streams it follows with short-lived consumers (a live feed), besides its durables.
    follows: tuple[str, ...] = ()
    #: Every durable of every service (the provisioning job).
    all_durables: bool = False

    def durables(self) -> tuple[Subscription, ...]:
        """The durable consumers this service reads: the subscriptions named after it."""
        if self.all_durables:
            return SUBSCRIPTIONS
        return tuple(
            s
            for s in SUBSCRIPTIONS
            if s.durable_name == self.service or s.durable_name.startswith(f"{self.service}-")
        )


ACCESS: Mapping[str, Access] = {
    access.service: access
    for access in (
        Access(
            "gateway",
            publishes=(
                "inbound.>",
                "crm.contact.upserted.>",
                "crm.campaign.assigned.>",
                "crm.odoo.record_changed.>",
                "payments.transaction.status_changed.>",
            ),
            kv_reads=(*_IDENTITY_BUCKETS, CHANNEL_ROUTES_BUCKET),
        ),
        Access(
            "conversation",
            publishes=(
                "outbound.message.requested.>",
                "payments.debt.lookup_requested.>",
                "payments.link.requested.>",
                "crm.lead.state_changed.>",
                "inbox.>",
            ),
            kv_reads=(*_IDENTITY_BUCKETS, COMPANY_SETTINGS_BUCKET),
            objects=(MEDIA_BUCKET,),
            follows=(INBOX.name,),
        ),
        Access(
            "payments",
            publishes=(
                "payments.debt.looked_up.>",
                "payments.debt.lookup_failed.>",
                "payments.link.created.>",
                "payments.link.failed.>",
            ),
        ),
        Access("crm-sync", publishes=("crm.lead.state_changed.>",)),
        Access(
            "notifier",
            publishes=(
                "outbound.>",
                "inbound.media.stored.>",
                "inbound.media.refused.>",
            ),
            kv_writes=(CHANNEL_ROUTES_BUCKET,),
            objects=(MEDIA_BUCKET,),
        ),
        Access(
            "identity",
            kv_writes=(*_IDENTITY_BUCKETS, COMPANY_SETTINGS_BUCKET),
            kv_reads=(),
        ),
        Access("console"),
        Access("provisioning", kv_reads=(), all_durables=True),
    )
}


def permissions(access: Access) -> dict[str, Any]:
    """The NATS ``permissions`` of one service's user."""
    publish = [
        *access.publishes,
        "$JS.API.INFO",
        "$JS.API.STREAM.NAMES",
        "$JS.API.STREAM.LIST",
    ]
    for spec in STREAMS:
        publish += [f"$JS.API.STREAM.{verb}.{spec.name}" for verb in ("INFO", "CREATE", "UPDATE")]
    for durable in access.durables():
        publish += _durable(durable.stream, durable.durable_name)
    for bucket in access.kv_reads:
        publish += _followed(f"KV_{bucket}")
    for bucket in access.kv_writes:
        publish += [*_followed(f"KV_{bucket}"), f"$KV.{bucket}.>"]
    for bucket in access.objects:
        objects = f"OBJ_{bucket}"
        publish += [*_followed(objects), f"$O.{bucket}.>", f"$JS.API.STREAM.PURGE.{objects}"]
    for stream_name in access.follows:
        publish += _followed(stream_name)
    return {
        "publish": {"allow": list(dict.fromkeys(publish))},
        "subscribe": {"allow": ["_INBOX.>"]},
    }


def _durable(stream: str, durable: str) -> list[str]:
    return [
        f"$JS.API.CONSUMER.INFO.{stream}.{durable}",
        f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.{durable}",
        f"$JS.API.CONSUMER.CREATE.{stream}.{durable}",
        f"$JS.API.CONSUMER.CREATE.{stream}.{durable}.>",
        f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}",
        f"$JS.ACK.{stream}.{durable}.>",
        f"dlq.{stream}.{durable}",
    ]


def _followed(stream: str) -> list[str]:
    """Reading a stream with short-lived (ordered) consumers, as KV watches, object
    reads and live feeds do: their names are random, so any consumer of the stream."""
    return [
        f"$JS.API.STREAM.INFO.{stream}",
        f"$JS.API.STREAM.CREATE.{stream}",
        f"$JS.API.STREAM.MSG.GET.{stream}",
        f"$JS.API.DIRECT.GET.{stream}",
        f"$JS.API.DIRECT.GET.{stream}.>",
        f"$JS.API.CONSUMER.CREATE.{stream}",
        f"$JS.API.CONSUMER.CREATE.{stream}.>",
        f"$JS.API.CONSUMER.INFO.{stream}.>",
        f"$JS.API.CONSUMER.DELETE.{stream}.>",
        f"$JS.FC.{stream}.>",
    ]


def authorization(public_keys: Mapping[str, str], *, admins: Iterable[str] = ()) -> dict[str, Any]:
    """The ``authorization`` block granting each service's public NKEY its permissions
    (``public_keys``: service -> ``U...`` key); ``admins`` get every subject (operators'
    tools, never a service)."""
    unknown = set(public_keys) - set(ACCESS)
    if unknown:
        raise ValueError(f"no bus access declared for {sorted(unknown)}; known: {sorted(ACCESS)}")
    users: list[dict[str, Any]] = [
        {"nkey": key, "permissions": permissions(ACCESS[service])}
        for service, key in sorted(public_keys.items())
    ]
    users += [{"nkey": key} for key in admins]
    return {"users": users}


def render(public_keys: Mapping[str, str], *, admins: Iterable[str] = ()) -> str:
    """``nats.conf`` text (NATS reads JSON) for :func:`authorization`."""
    block = json.dumps(authorization(public_keys, admins=admins), indent=2)
    return f"authorization: {block}\n"


def all_permissions() -> dict[str, Any]:
    """Every user's permissions, by user (what the helm chart renders from)."""
    return {service: permissions(access) for service, access in ACCESS.items()}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--permissions"]:
        sys.stdout.write(json.dumps(all_permissions(), indent=2) + "\n")
        return 0
    if len(args) != 1:
        print(
            "usage: python -m cauce_contracts.bus_access PUBLIC_KEYS.json | --permissions",
            file=sys.stderr,
        )
        print('  PUBLIC_KEYS.json: {"gateway": "U...", ..., "admins": ["U..."]}', file=sys.stderr)
        return 2
    with open(args[0], encoding="utf-8") as file:
        keys = json.load(file)
    admins = keys.pop("admins", [])
    sys.stdout.write(render(keys, admins=admins))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
