"""社会保险缴费信息: what enterprises' employees paid, month by month and insurance by insurance.

Only the insurances an employee pays into: 工伤保险 and 生育保险 are paid by the employer
alone, so their rows would tell everyone who reads the (unconditional) insurance type
the (conditional) personal contribution: nothing. And nobody is insured by an
enterprise they represent: the record's unconditional ID number would be the
enterprise's conditional legal representative's, found by the name both show.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from itertools import accumulate, count
from random import Random
from typing import NamedTuple

from demo import identity, words
from demo.dates import REFERENCE_DATE, months_before
from demo.enterprises import Enterprise
from demo.people import Person

# The contribution base band, 元 a month: round figures near Henan's, which runs from
# 60 % to 300 % of the provincial average wage.
BASE_FLOOR = 4000
BASE_CEILING = 20000
# The employee's own share of each insurance; the employer pays its own on top.
PERSONAL_RATES = {
    "城镇职工基本养老保险": Decimal("0.08"),
    "职工基本医疗保险": Decimal("0.02"),
    "失业保险": Decimal("0.003"),
}
_RETIREMENT_AGE = {"男": 60, "女": 55}
_FLOOR_DECLARING_SHARE = 0.35  # employers that declare every employee at the floor
_WHOLE_PERIOD_SHARE = 0.7  # employees insured in every month of the period
_SEVERAL_MONTHS = 3
_CENT = Decimal("0.01")


class InsuranceContribution(NamedTuple):
    record_number: str
    person_id_number: str
    person_name: str
    employer_credit_code: str
    insurance_type: str
    contribution_month: str
    contribution_base: Decimal
    personal_contribution: Decimal
    monthly_wage: Decimal
    payment_status: str


class _Employee(NamedTuple):
    person: Person
    first: int  # index of the first month insured in the period
    last: int
    wage: float  # the usual monthly wage, never below the base floor
    base: Decimal  # declared once for the year


def make_contributions(
    rng: Random,
    persons: Sequence[Person],
    enterprises: Sequence[Enterprise],
    share: float,
    months: int,
) -> list[InsuranceContribution]:
    """`share` of working-age residents insured by active enterprises over the last `months`
    months, by month, employer and employee; the first person is insured, and the first
    enterprise (which it represents) employs the second person hired."""
    period = months_before(REFERENCE_DATE, months)
    staff = _staff(rng, persons, enterprises, share, period)
    rows: list[InsuranceContribution] = []
    for index, month in enumerate(period):
        numbers = count(1)
        for employer, employees in staff:
            insured = [person for person in employees if person.first <= index <= person.last]
            if insured:
                status = words.PAYMENT_STATUSES.pick(rng)
                for employee in insured:
                    rows += _month(rng, month, numbers, employer, employee, status)
    return rows


def _staff(
    rng: Random,
    persons: Sequence[Person],
    enterprises: Sequence[Enterprise],
    share: float,
    period: Sequence[date],
) -> list[tuple[Enterprise, list[_Employee]]]:
    """Employers in register order with their employees; larger firms employ more people."""
    employers = [enterprise for enterprise in enterprises if enterprise.active]
    workers = [person for person in persons[1:] if _working_age(person)]
    hired = [persons[0], *rng.sample(workers, round(len(workers) * share))]
    sizes = list(accumulate(math.sqrt(employer.registered_capital) for employer in employers))
    placed = rng.choices(employers, cum_weights=sizes, k=len(hired))
    if len(placed) > 1:
        placed[1] = enterprises[0]
    floor_declaring = {e.credit_code for e in employers if rng.random() < _FLOOR_DECLARING_SHARE}
    staff: dict[str, list[_Employee]] = {employer.credit_code: [] for employer in employers}
    for person, chosen in zip(hired, placed, strict=True):
        employer = _not_represented_by(person, chosen, employers)
        if employer is None:
            continue
        declares_floor = employer.credit_code in floor_declaring
        staff[employer.credit_code].append(
            _employee(rng, person, employer, period, declares_floor=declares_floor)
        )
    return [(e, staff[e.credit_code]) for e in employers if staff[e.credit_code]]


def _not_represented_by(
    person: Person, chosen: Enterprise, employers: Sequence[Enterprise]
) -> Enterprise | None:
    """The chosen employer, or if the person represents it the next one in register order
    that they do not; None if they represent every one."""
    if chosen.legal_rep_id_number != person.id_number:
        return chosen
    start = employers.index(chosen)
    for employer in (*employers[start:], *employers[:start]):
        if employer.legal_rep_id_number != person.id_number:
            return employer
    return None


def _working_age(person: Person) -> bool:
    return 18 <= person.age < _RETIREMENT_AGE[person.gender]


def _employee(
    rng: Random,
    person: Person,
    employer: Enterprise,
    period: Sequence[date],
    *,
    declares_floor: bool,
) -> _Employee:
    """Insured for several consecutive months, none before the employer was established."""
    founded = employer.established_on.replace(day=1)
    opening = next(index for index, month in enumerate(period) if month >= founded)
    open_months = len(period) - opening
    if rng.random() < _WHOLE_PERIOD_SHARE:
        length = open_months
    else:
        length = rng.randint(min(_SEVERAL_MONTHS, open_months), open_months)
    first = rng.randint(opening, len(period) - length)
    wage = BASE_FLOOR + rng.lognormvariate(math.log(1500), 1.0)
    base = BASE_FLOOR if declares_floor else int(min(wage, BASE_CEILING))
    return _Employee(person, first, first + length - 1, wage, Decimal(base).quantize(_CENT))


def _month(
    rng: Random,
    month: date,
    numbers: Iterator[int],
    employer: Enterprise,
    employee: _Employee,
    status: str,
) -> list[InsuranceContribution]:
    """One row per insurance; the wage varies from month to month, the base does not."""
    wage = Decimal(employee.wage * rng.uniform(1.0, 1.15)).quantize(_CENT)
    return [
        InsuranceContribution(
            record_number=identity.contribution_record_number(month, next(numbers)),
            person_id_number=employee.person.id_number,
            person_name=employee.person.name,
            employer_credit_code=employer.credit_code,
            insurance_type=insurance,
            contribution_month=f"{month:%Y-%m}",
            contribution_base=employee.base,
            personal_contribution=(employee.base * rate).quantize(_CENT, ROUND_HALF_UP),
            monthly_wage=wage,
            payment_status=status,
        )
        for insurance, rate in PERSONAL_RATES.items()
    ]
