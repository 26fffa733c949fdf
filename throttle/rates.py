"""What each caller may spend: a rate per system, per department (all its systems
together), per client address for the public and for failed authentications, with
overrides for named departments and systems.

Rates are written as settings write them, in the `limits` library's notation:
`600/minute`, `20 per second`, `100/5 minutes`. One rate per setting: a caller refused
is told when one more request is admitted, and with one rate that is one number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from limits import RateLimitItem, parse_many

# What an override is keyed by: a department code, or `<department code>/<system id>`,
# as rule files and grants name a department and one of its systems.
_HOLDER = re.compile(r"[0-9A-Z]{18}(/[a-z0-9][a-z0-9-]{0,99})?")


def parse_rate(text: str) -> RateLimitItem:
    """One rate of at least one request; ValueError saying what a rate looks like."""
    try:
        items = parse_many(text)
    except ValueError:
        items = []
    if len(items) != 1 or items[0].amount < 1:
        raise ValueError(
            f"{text!r} is not a rate such as 600/minute, 20/second or 5000/hour "
            "(one rate of at least one request per second, minute, hour or day)"
        )
    return items[0]


def parse_overrides(overrides: Mapping[str, str]) -> dict[str, RateLimitItem]:
    """Each holder's rate; ValueError naming the first holder or rate that is wrong."""
    parsed = {}
    for holder, rate in overrides.items():
        if not _HOLDER.fullmatch(holder):
            raise ValueError(
                f"{holder!r} is neither a department code (18 characters, e.g. "
                "11410581005000006G) nor <department code>/<system id> "
                "(e.g. 11410581005000006G/marriage-registry)"
            )
        try:
            parsed[holder] = parse_rate(rate)
        except ValueError as wrong:
            raise ValueError(f"{holder}: {wrong}") from None
    return parsed


@dataclass(frozen=True)
class Rates:
    system: RateLimitItem
    """Each department system's, unless overridden."""
    department: RateLimitItem
    """Each department's, for all its systems together, unless overridden."""
    auth_failures: RateLimitItem
    """Each client address's failed authentications."""
    public: RateLimitItem
    """Each client address's requests without a credential."""
    overrides: Mapping[str, RateLimitItem] = field(default_factory=dict)
    """By department code, or `<department code>/<system id>`."""

    @classmethod
    def parse(
        cls,
        *,
        system: str,
        department: str,
        auth_failures: str,
        public: str,
        overrides: Mapping[str, str],
    ) -> Rates:
        return cls(
            parse_rate(system),
            parse_rate(department),
            parse_rate(auth_failures),
            parse_rate(public),
            parse_overrides(overrides),
        )

    def of_system(self, department: str, system: str) -> RateLimitItem:
        return self.overrides.get(f"{department}/{system}", self.system)

    def of_department(self, department: str) -> RateLimitItem:
        return self.overrides.get(department, self.department)
