"""The JetStream bus: connect, provision, publish with PubAck, durable pull consumers.

``python -m cauce_runtime.bus.provision`` provisions every stream up front.
"""

from cauce_runtime.bus._bus import HEADER_MSG_ID, Bus
from cauce_runtime.bus._consumers import Delivery, SubjectTurns, consumer
from cauce_runtime.bus._kv import BucketFollower, BucketMirror, key_value_bucket
from cauce_runtime.bus._objects import FileContent, FileStore, StoredFile, file_name
from cauce_runtime.bus._provisioning import ProvisionReport, stream_config
from cauce_runtime.bus._publisher import NewTrace, Publication, Publisher
from cauce_runtime.bus._pull_loop import PullLoop
from cauce_runtime.bus._spec import DEFAULT_BACKOFF, ConsumerSpec

__all__ = [
    "DEFAULT_BACKOFF",
    "HEADER_MSG_ID",
    "BucketFollower",
    "BucketMirror",
    "Bus",
    "ConsumerSpec",
    "Delivery",
    "FileContent",
    "FileStore",
    "NewTrace",
    "ProvisionReport",
    "Publication",
    "Publisher",
    "PullLoop",
    "StoredFile",
    "SubjectTurns",
    "consumer",
    "file_name",
    "key_value_bucket",
    "stream_config",
]
