"""Password hashing with Argon2id (argon2-cffi's RFC 9106 low-memory profile), off the
event loop: one hash costs tens of milliseconds of CPU and 64 MiB by design, so at most
:data:`CONCURRENT_HASHES` run at once (a burst of logins waits instead of exhausting the
pod's memory)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

CONCURRENT_HASHES = 4
_hashing = ThreadPoolExecutor(max_workers=CONCURRENT_HASHES, thread_name_prefix="argon2")
_hasher = PasswordHasher()
#: Verified against when the e-mail is unknown, so a wrong e-mail costs what a wrong
#: password costs (no timing tells which accounts exist).
_DECOY = _hasher.hash("cauce-decoy-password")


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_hashing, _hasher.hash, password)


async def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; an unknown user (``None``) still pays a verify."""
    return await asyncio.get_running_loop().run_in_executor(
        _hashing, _verify, stored_hash, password
    )


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored_hash)


def _verify(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DECOY, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
