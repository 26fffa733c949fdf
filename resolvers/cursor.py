"""Opaque connection cursors: SM4-GCM over the sort values, bound to list, order and caller.

A cursor carries record keys (an ID number, a credit code) and the values it is sorted
by, so it is encrypted as well as authenticated. Binding it to the caller's department
means a cursor leaked to another department is refused rather than replayed; binding
it to the ordering means it cannot be replayed under another order to probe values.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import os
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from errors import BadCursor

_NONCE = 12
_TAG = 16
_REFUSED = "the cursor is not one this platform issued for this list and order"


class CursorCodec:
    def __init__(self, key: bytes, audience: str) -> None:
        self._key = key
        self._audience = audience

    def encode(self, resource_id: str, values: Sequence[Hashable], order: str = "") -> str:
        nonce = os.urandom(_NONCE)
        encryptor = Cipher(algorithms.SM4(self._key), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(self._aad(resource_id, order))
        plain = json.dumps([_tag(value) for value in values]).encode()
        body = encryptor.update(plain) + encryptor.finalize()
        return base64.urlsafe_b64encode(nonce + encryptor.tag + body).decode().rstrip("=")

    def decode(
        self, resource_id: str, cursor: str, order: str = "", length: int = 1
    ) -> tuple[Hashable, ...]:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            nonce, tag, body = raw[:_NONCE], raw[_NONCE : _NONCE + _TAG], raw[_NONCE + _TAG :]
            decryptor = Cipher(algorithms.SM4(self._key), modes.GCM(nonce, tag)).decryptor()
            decryptor.authenticate_additional_data(self._aad(resource_id, order))
            values = json.loads(decryptor.update(body) + decryptor.finalize())
        except (ValueError, InvalidTag):
            raise BadCursor(_REFUSED) from None
        if not isinstance(values, list) or len(values) != length:
            raise BadCursor(_REFUSED)
        return tuple(_untag(value) for value in values)

    def _aad(self, resource_id: str, order: str) -> bytes:
        return f"{resource_id}|{order}|{self._audience}".encode()


def _tag(value: Hashable) -> Any:
    """Keep dates and decimals typed, so keyset parameters bind with the column's type."""
    if isinstance(value, datetime.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"d": value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {"n": str(value)}
    return value


def _untag(value: Any) -> Hashable:
    if isinstance(value, dict):
        [(kind, text)] = value.items()
        parse: dict[str, Callable[[str], Hashable]] = {
            "t": datetime.datetime.fromisoformat,
            "d": datetime.date.fromisoformat,
            "n": decimal.Decimal,
        }
        return parse[kind](text)
    return value  # type: ignore[no-any-return]
