"""Rate limits: how many requests each department system and each department may make,
and how many failed authentications each client address, in any moving window.

Knows nothing of HTTP or GraphQL: it is told who asks (department, system, address)
and answers whether the request is admitted, and if not when it would be.
"""

from throttle.limiter import Counting, Limit, Refusal, Throttle
from throttle.rates import Rates, parse_overrides, parse_rate

__all__ = ["Counting", "Limit", "Rates", "Refusal", "Throttle", "parse_overrides", "parse_rate"]
