"""Is this request really from the channel? Checked on the raw bytes, before any parsing.

Every comparison here is constant-time (``hmac.compare_digest``) so the time a check takes
says nothing about how much of a signature or key was right.
"""

from cauce_gateway.authenticity.errors import NotAuthentic
from cauce_gateway.authenticity.meta_signature import verify_meta_signature
from cauce_gateway.authenticity.sci_signature import verify_sci_signature
from cauce_gateway.authenticity.shared_keys import matching_key
from cauce_gateway.authenticity.ycloud_signature import verify_ycloud_signature

__all__ = [
    "NotAuthentic",
    "matching_key",
    "verify_meta_signature",
    "verify_sci_signature",
    "verify_ycloud_signature",
]
