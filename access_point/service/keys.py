"""API keys: ``apk_<id>_<secret>``; only the SHA-256 of the whole key is stored (configuration and
database). The secret has 256 bits of entropy, so a fast hash is enough (no password stretching)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Final

PREFIX: Final = "apk_"
#: Bytes of randomness in the secret part.
SECRET_BYTES: Final = 32


@dataclass(frozen=True)
class NewKey:
    """A freshly generated key: ``key`` is shown once, ``hash`` is what is kept."""

    id: str
    key: str
    hash: str


def hash_key(key: str) -> str:
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def new_key() -> NewKey:
    key_id = secrets.token_hex(6)
    key = f"{PREFIX}{key_id}_{secrets.token_urlsafe(SECRET_BYTES)}"
    return NewKey(key_id, key, hash_key(key))


def key_id_of(key: str) -> str | None:
    """The public id part of a presented key, or None when it is not shaped like one of ours."""
    if not key.startswith(PREFIX):
        return None
    key_id, sep, secret = key[len(PREFIX) :].partition("_")
    return key_id if sep and key_id and secret else None


def matches(key: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented key with a stored hash."""
    return hmac.compare_digest(hash_key(key).encode(), stored_hash.encode())
