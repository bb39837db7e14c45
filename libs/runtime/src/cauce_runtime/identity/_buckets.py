"""The identity KV buckets, declared once for the service that writes them and every
service that reads them (whoever starts first creates them, with the same config)."""

from __future__ import annotations

from nats.js.client import JetStreamContext
from nats.js.kv import KeyValue

from cauce_contracts.identity import REVOKED_SESSIONS_BUCKET, SIGNING_KEYS_BUCKET
from cauce_runtime.bus import key_value_bucket

#: The longest an access token may live (the identity service refuses a longer
#: setting): a revoked session is remembered that long, plus clock leeway.
MAX_ACCESS_TOKEN_TTL_S = 3600
REVOKED_FOR_S = MAX_ACCESS_TOKEN_TTL_S + 120
#: A public key not published again for this long leaves the bucket: the identity
#: service re-publishes its keys every ``KEY_REPUBLISH_S``, so a retired key goes a day
#: after the last replica holding it stopped.
KEY_KEPT_S = 24 * 3600
KEY_REPUBLISH_S = 3600


async def signing_keys_bucket(js: JetStreamContext, replicas: int = 1) -> KeyValue:
    return await key_value_bucket(js, SIGNING_KEYS_BUCKET, replicas=replicas, ttl_s=KEY_KEPT_S)


async def revoked_sessions_bucket(js: JetStreamContext, replicas: int = 1) -> KeyValue:
    return await key_value_bucket(
        js, REVOKED_SESSIONS_BUCKET, replicas=replicas, ttl_s=REVOKED_FOR_S
    )
