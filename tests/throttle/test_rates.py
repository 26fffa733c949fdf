"""Rates as settings write them: the defaults, per-department and per-system overrides,
and a setting that is not a rate refused at start-up, saying what a rate looks like."""

from __future__ import annotations

import pytest

from settings import read_settings
from throttle import Rates

CIVIL_AFFAIRS = "11410581005000006G"
TAXATION = "11410581005000005D"


def rates(**overrides: str) -> Rates:
    return Rates.parse(
        system="600/minute",
        department="1000/minute",
        auth_failures="10/minute",
        public="600/minute",
        overrides=overrides,
    )


def test_a_caller_without_an_override_has_the_defaults() -> None:
    chosen = rates()
    assert str(chosen.of_system(CIVIL_AFFAIRS, "marriage-registry")) == "600 per 1 minute"
    assert str(chosen.of_department(CIVIL_AFFAIRS)) == "1000 per 1 minute"


def test_overrides_name_a_system_or_a_department() -> None:
    chosen = rates(**{f"{CIVIL_AFFAIRS}/marriage-registry": "20/second", TAXATION: "5000/hour"})
    assert str(chosen.of_system(CIVIL_AFFAIRS, "marriage-registry")) == "20 per 1 second"
    assert str(chosen.of_system(CIVIL_AFFAIRS, "other-system")) == "600 per 1 minute"
    assert str(chosen.of_department(CIVIL_AFFAIRS)) == "1000 per 1 minute"
    assert str(chosen.of_department(TAXATION)) == "5000 per 1 hour"
    assert str(chosen.of_system(TAXATION, "tax-admin")) == "600 per 1 minute"


def problem(**values: object) -> str:
    with pytest.raises(ExceptionGroup) as raised:
        read_settings(**values)
    [error] = raised.value.exceptions
    return str(error)


@pytest.mark.parametrize("rate", ["ten a minute", "0/minute", "-5/minute", "10/fortnight", ""])
def test_a_rate_that_is_not_one_is_refused(rate: str) -> None:
    assert problem(rate_limit_system=rate) == (
        f"settings: GOV_SHARE_RATE_LIMIT_SYSTEM: Value error, {rate!r} is not a rate such as "
        "600/minute, 20/second or 5000/hour (one rate of at least one request per second, "
        "minute, hour or day)"
    )


def test_one_rate_per_setting() -> None:
    assert "'5/minute;1/second' is not a rate" in problem(
        rate_limit_auth_failures="5/minute;1/second"
    )
    assert "GOV_SHARE_RATE_LIMIT_DEPARTMENT" in problem(rate_limit_department="5 requests")


def test_an_override_names_a_department_code_or_one_of_its_systems() -> None:
    said = problem(rate_limit_overrides={"marriage-registry": "5/minute"})
    assert said.startswith("settings: GOV_SHARE_RATE_LIMIT_OVERRIDES: ")
    assert "'marriage-registry' is neither a department code" in said
    assert "11410581005000006G/marriage-registry" in said, "it shows what a holder looks like"


def test_an_override_with_a_bad_rate_names_its_holder() -> None:
    said = problem(rate_limit_overrides={f"{CIVIL_AFFAIRS}/marriage-registry": "lots"})
    assert f"{CIVIL_AFFAIRS}/marriage-registry: 'lots' is not a rate" in said


def test_overrides_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOV_SHARE_RATE_LIMIT_OVERRIDES", f'{{"{TAXATION}": "50/minute"}}')
    assert read_settings().rate_limit_overrides == {TAXATION: "50/minute"}
