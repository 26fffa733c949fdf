"""What the metrics count of the /graphql requests answered: by how each ended and the
error codes it carried, and the decisions made for the fields it selected (Art. 13).

Labels are closed sets only: an exchange's outcome names a kind of ending, a code is
one of the platform's own (`errors.codes()`), a decision one of `policies.Outcome`.
Never who asked, from where, about whom, nor a value.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from errors import codes
from policies import Outcome
from web.exchange import Exchange

OTHER = "OTHER"
"""The code counted for one the platform does not know: the labels stay bounded."""
_CODES = codes()


@dataclass
class Traffic:
    """Counted since start-up, by this server process."""

    requests: Counter[str] = field(default_factory=Counter)
    """By the exchange's outcome (served, partial, rate_limited, ...)."""
    errors: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Requests by outcome and error code, each code once per request."""
    decisions: Counter[Outcome | None] = field(default_factory=Counter)
    """Fields selected, by what was decided for each; None for a field nothing decides."""

    def count(self, exchange: Exchange) -> None:
        """Once per request, as it is answered; its fields are counted only when its
        execution is sent (a request refused afterwards served no decision)."""
        outcome = exchange.outcome_name
        self.requests[outcome] += 1
        for code in set(exchange.error_codes):
            self.errors[outcome, code if code in _CODES else OTHER] += 1
        if exchange.outcome is not None:
            self.decisions.update(account.outcome for account in exchange.outcome.fields)
