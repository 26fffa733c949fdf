"""How a receiver knows a notification is the platform's and fresh: an HMAC-SHA256, with
the department's secret, over the timestamp and the body exactly as sent.

    X-Gov-Share-Timestamp: 1765152000
    X-Gov-Share-Signature: sha256=<hex of HMAC(secret, "1765152000." + body)>

A receiver recomputes it over the raw body, compares in constant time, and refuses a
timestamp more than a few minutes old, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP = "X-Gov-Share-Timestamp"
SIGNATURE = "X-Gov-Share-Signature"
EVENT = "X-Gov-Share-Event"
DELIVERY = "X-Gov-Share-Delivery"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"
