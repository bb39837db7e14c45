"""The dev stack's NATS users: one NKEY per service plus an admin for tools.

Made at the first ``make run`` and kept in ``.cauce/nats/keys.json`` (readable by its
owner only), so a restarted stack keeps its users. The server gets only the public
keys, each with the permissions ``cauce_contracts.bus_access`` declares: ``make run``
runs the services exactly as a deployment with authentication does. Tools (tests,
``make bench``, the ``nats`` CLI) sign in as ``admin``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import nkeys

from cauce_contracts.bus_access import ACCESS, render

ADMIN = "admin"


def nats_keys_file(home: Path) -> Path:
    """Where the dev stack under ``home`` keeps its NATS users' seeds."""
    return home / "nats-auth" / "keys.json"


def new_seed() -> str:
    """A fresh NKEY user seed (``SU...``)."""
    seed: bytes = nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER)
    return seed.decode()


def public_key(seed: str) -> str:
    """The public key (``U...``) of a user seed."""
    return str(nkeys.from_seed(seed.encode()).public_key.decode())


@dataclass(frozen=True)
class NatsKeys:
    """Seeds by user: every service of :data:`~cauce_contracts.bus_access.ACCESS`, and
    :data:`ADMIN`."""

    seeds: dict[str, str]

    @property
    def admin_seed(self) -> str:
        return self.seeds[ADMIN]

    def seed_for(self, service: str) -> str:
        return self.seeds[service]

    @classmethod
    def kept_in(cls, path: Path) -> NatsKeys:
        """The keys stored at ``path``, completed (and stored) for users it lacks."""
        seeds: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
        wanted = [*ACCESS, ADMIN]
        if any(user not in seeds for user in wanted):
            seeds = {user: seeds.get(user) or new_seed() for user in wanted}
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.touch(mode=0o600)
            path.write_text(json.dumps(seeds, indent=2))
        return cls(seeds)

    def authorization_conf(self) -> str:
        """The server's ``authorization`` block for these users."""
        services = {user: public_key(seed) for user, seed in self.seeds.items() if user in ACCESS}
        return render(services, admins=[public_key(self.admin_seed)])
