"""Signed webhooks to department systems about their applications (Art. 8): a new
application to its provider, an answer to its consumer, an escalation to the office,
and reminders before an answer's deadline and before a grant ends.

Made from the applications' own steps (the store's history is the outbox, so no step
goes untold and none is told twice), delivered with retries and backoff, and
dead-lettered after the last attempt, to be tried again by id (`python -m
notifications`).
"""

from notifications.outbox import Delivery, DeliveryState, Outbox
from notifications.sender import Notifier
from notifications.signing import SIGNATURE, TIMESTAMP, signature

__all__ = [
    "SIGNATURE",
    "TIMESTAMP",
    "Delivery",
    "DeliveryState",
    "Notifier",
    "Outbox",
    "signature",
]
