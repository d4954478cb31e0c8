"""Own the keys that let a phone change and follow its own answers without naming anyone.

A phone holds a random secret that the server never stores. From it the server derives, per
answer, a slot key that only means something within one activity, and (when the phone keeps
its history) a keyed hash of a pseudonym that links its answers across the cycle. Neither can
be turned back into the secret, nor joined to a member or a device in the database.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_MIN_LENGTH = 22  # about 128 bits in URL-safe base64


def new_secret() -> str:
    """Make a phone secret or device token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def is_valid_secret(value: object) -> bool:
    """Say whether a value looks like a secret a phone made (long enough, plain characters)."""
    return (
        isinstance(value, str)
        and SECRET_MIN_LENGTH <= len(value) <= 128
        and all(c.isalnum() or c in "-_" for c in value)
    )


def token_hash(token: str) -> str:
    """Hash a device or screen token for storage: the database never holds the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def slot_key(phone_secret: str, activity_id: int) -> str:
    """Derive the key of a phone's answer to one activity; it means nothing in any other."""
    message = f"hearth-slot:{activity_id}".encode()
    return hmac.new(phone_secret.encode(), message, hashlib.sha256).hexdigest()


def pseudonym_hash(server_key: str, phone_secret: str) -> str:
    """Derive the keyed pseudonym that links one phone's answers across the cycle."""
    pseudonym = hmac.new(phone_secret.encode(), b"hearth-pseudonym", hashlib.sha256).digest()
    pepper = hmac.new(server_key.encode(), b"hearth-pseudonym-pepper", hashlib.sha256).digest()
    return hmac.new(pepper, pseudonym, hashlib.sha256).hexdigest()
