"""纳税人登记信息: the tax side of most registered enterprises.

The rating and the tax paid are withheld (conditional, not shared) while the
registration date and the enterprise's status are not, so neither follows from them:
no M for exactly the new taxpayers, no zero for exactly the closed enterprises.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from random import Random
from typing import NamedTuple

from demo import identity, words
from demo.dates import REFERENCE_DATE
from demo.enterprises import Enterprise

# 一般纳税人 threshold on registered capital (万元), below which it is the owner's choice.
_GENERAL_TAXPAYER_CAPITAL = 500


class TaxRegistration(NamedTuple):
    credit_code: str
    taxpayer_name: str
    taxpayer_type: str
    tax_authority: str
    registered_on: date
    credit_rating: str
    annual_tax_paid: Decimal
    bank_account: str


def make_tax_registrations(
    rng: Random, count: int, enterprises: Sequence[Enterprise]
) -> list[TaxRegistration]:
    """`count` registrations in enterprise order, always including the first enterprise."""
    others = sorted(rng.sample(range(1, len(enterprises)), count - 1))
    return [_registration(rng, enterprises[index]) for index in [0, *others]]


def _registration(rng: Random, enterprise: Enterprise) -> TaxRegistration:
    general = enterprise.registered_capital >= _GENERAL_TAXPAYER_CAPITAL or rng.random() < 0.2
    registered = min(
        enterprise.established_on + timedelta(days=rng.randint(0, 30)),
        REFERENCE_DATE - timedelta(days=1),
    )
    return TaxRegistration(
        credit_code=enterprise.credit_code,
        taxpayer_name=enterprise.name,
        taxpayer_type="一般纳税人" if general else "小规模纳税人",
        tax_authority=words.TAX_AUTHORITIES.pick(rng),
        registered_on=registered,
        credit_rating=words.CREDIT_RATINGS.pick(rng),
        annual_tax_paid=_tax_paid(rng, general),
        bank_account=identity.bank_account(rng),
    )


def _tax_paid(rng: Random, general: bool) -> Decimal:
    """Last year's tax in 万元, general taxpayers paying more."""
    amount = rng.lognormvariate(3.5 if general else 0.5, 1.0)
    return Decimal(amount).quantize(Decimal("0.01"))
