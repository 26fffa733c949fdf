"""Opaque connection cursors: SM4-GCM over the key value, bound to resource and caller.

A cursor carries a record key (an ID number, a credit code), so it is encrypted as
well as authenticated; binding it to the caller's department means a cursor leaked
to another department is refused rather than replayed.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Hashable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from errors import BadCursor

_NONCE = 12
_TAG = 16


class CursorCodec:
    def __init__(self, key: bytes, audience: str) -> None:
        self._key = key
        self._audience = audience

    def encode(self, resource_id: str, key: Hashable) -> str:
        nonce = os.urandom(_NONCE)
        encryptor = Cipher(algorithms.SM4(self._key), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(self._aad(resource_id))
        body = encryptor.update(json.dumps(key).encode()) + encryptor.finalize()
        return base64.urlsafe_b64encode(nonce + encryptor.tag + body).decode().rstrip("=")

    def decode(self, resource_id: str, cursor: str) -> Hashable:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            nonce, tag, body = raw[:_NONCE], raw[_NONCE : _NONCE + _TAG], raw[_NONCE + _TAG :]
            decryptor = Cipher(algorithms.SM4(self._key), modes.GCM(nonce, tag)).decryptor()
            decryptor.authenticate_additional_data(self._aad(resource_id))
            value = json.loads(decryptor.update(body) + decryptor.finalize())
        except (ValueError, InvalidTag):
            raise BadCursor("the cursor is not one this platform issued for this list") from None
        if not isinstance(value, str | int):
            raise BadCursor("the cursor is not one this platform issued for this list")
        return value

    def _aad(self, resource_id: str) -> bytes:
        return f"{resource_id}|{self._audience}".encode()
