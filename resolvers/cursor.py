"""Opaque connection cursors: SM4-GCM over the sort values, bound to everything that
shaped the page they end.

A cursor carries record keys (an ID number, a credit code) and the values it is sorted
by, so it is encrypted as well as authenticated. The page after it is where those
values sort among the rows its caller may see: replayed by another caller (another key
of the same system may carry other scope attributes), under another purpose, order,
or decision on an ordered item, it would tell where a value hidden from that caller
sorts. So its associated data binds it to the API key, system, scope attributes and
purpose (`audience`), and to the list, its order and those decisions (`binding`), and
anything else is refused.
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
from policies import Caller, Purpose

_NONCE = 12
_TAG = 16
_REFUSED = "the cursor is not one this platform issued to you for this list, order and purpose"


def audience(caller: Caller, purpose: Purpose | None) -> str:
    """Who a cursor is issued to, for one request: the same for the same key and purpose."""
    return json.dumps(
        [
            caller.department,
            caller.system,
            caller.credential,
            caller.attributes,
            purpose.value if purpose else None,
        ],
        ensure_ascii=False,
    )


class CursorCodec:
    def __init__(self, key: bytes, audience: str) -> None:
        self._key = key
        self._audience = audience

    def encode(self, resource_id: str, values: Sequence[Hashable], binding: str = "") -> str:
        nonce = os.urandom(_NONCE)
        encryptor = Cipher(algorithms.SM4(self._key), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(self._aad(resource_id, binding))
        plain = json.dumps([_tag(value) for value in values]).encode()
        body = encryptor.update(plain) + encryptor.finalize()
        return base64.urlsafe_b64encode(nonce + encryptor.tag + body).decode().rstrip("=")

    def decode(
        self, resource_id: str, cursor: str, binding: str = "", length: int = 1
    ) -> tuple[Hashable, ...]:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            nonce, tag, body = raw[:_NONCE], raw[_NONCE : _NONCE + _TAG], raw[_NONCE + _TAG :]
            decryptor = Cipher(algorithms.SM4(self._key), modes.GCM(nonce, tag)).decryptor()
            decryptor.authenticate_additional_data(self._aad(resource_id, binding))
            values = json.loads(decryptor.update(body) + decryptor.finalize())
        except (ValueError, InvalidTag):
            raise BadCursor(_REFUSED) from None
        if not isinstance(values, list) or len(values) != length:
            raise BadCursor(_REFUSED)
        return tuple(_untag(value) for value in values)

    def _aad(self, resource_id: str, binding: str) -> bytes:
        return json.dumps([resource_id, binding, self._audience], ensure_ascii=False).encode()


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
