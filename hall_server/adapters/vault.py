"""The identity vault: ID numbers sealed with AES-GCM (an AEAD), opened only for audited reveals.

The key is derived from the server secret with HKDF-SHA256; the applicant's keyed hash
is the associated data, so a sealed value moved to another person's row fails to open.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "v1:"


class VaultError(Exception):
    """A sealed value could not be opened (wrong key, tampered, or bound to another person)."""


class AesGcmVault:
    """Seal and open short secrets with AES-256-GCM."""

    def __init__(self, secret: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"onedoor applicant vault v1").derive(secret)
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, context: str) -> str:
        """Encrypt; the context (the applicant's keyed hash) is bound as associated data."""
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, token: str, context: str) -> str:
        """Decrypt a sealed value, or raise VaultError."""
        if not token.startswith(PREFIX):
            raise VaultError("unknown vault format")
        try:
            raw = base64.urlsafe_b64decode(token[len(PREFIX):])
            return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except (InvalidTag, ValueError) as e:
            raise VaultError("the sealed value does not open with this key and context") from e
