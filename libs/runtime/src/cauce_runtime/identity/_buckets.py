"""The identity KV buckets, declared once for the service that writes them and every
service that reads them (whoever starts first creates them, with the same config)."""

from __future__ import annotations

from nats.js.api import KeyValueConfig, StorageType
from nats.js.client import JetStreamContext
from nats.js.errors import BucketNotFoundError
from nats.js.kv import KeyValue

from cauce_contracts.identity import REVOKED_SESSIONS_BUCKET, SIGNING_KEYS_BUCKET

#: The longest an access token may live (the identity service refuses a longer
#: setting): a revoked session is remembered that long, plus clock leeway.
MAX_ACCESS_TOKEN_TTL_S = 3600
REVOKED_FOR_S = MAX_ACCESS_TOKEN_TTL_S + 120
#: A public key not published again for this long leaves the bucket: the identity
#: service re-publishes its keys every ``KEY_REPUBLISH_S``, so a retired key goes a day
#: after the last replica holding it stopped.
KEY_KEPT_S = 24 * 3600
KEY_REPUBLISH_S = 3600


def _config(bucket: str, replicas: int) -> KeyValueConfig:
    ttl = KEY_KEPT_S if bucket == SIGNING_KEYS_BUCKET else REVOKED_FOR_S
    return KeyValueConfig(
        bucket=bucket, history=1, ttl=ttl, storage=StorageType.FILE, replicas=replicas
    )


async def identity_bucket(js: JetStreamContext, bucket: str, replicas: int = 1) -> KeyValue:
    """The bucket, created on first use."""
    try:
        return await js.key_value(bucket)
    except BucketNotFoundError:
        return await js.create_key_value(config=_config(bucket, replicas))


async def signing_keys_bucket(js: JetStreamContext, replicas: int = 1) -> KeyValue:
    return await identity_bucket(js, SIGNING_KEYS_BUCKET, replicas)


async def revoked_sessions_bucket(js: JetStreamContext, replicas: int = 1) -> KeyValue:
    return await identity_bucket(js, REVOKED_SESSIONS_BUCKET, replicas)
