"""What the sharing policy decides, on the real catalog and the real rule files."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from catalog import Catalog, MaskedFor, ShareType, load_catalog
from grants import Grant, rules_of
from policies.caller import PUBLIC, Caller, Purpose
from policies.decision import Action, ApplicationRequest, Decision, Outcome
from policies.engine import SharingPolicy
from policies.index import RuleIndex
from policies.rule import Rule, instant
from policies.rules import RuleSet, load_rules
from resolvers.denials import field_denied
from settings import ROOT

CIVIL_AFFAIRS = "11410581005000006G"
HOUSING = "11410581005000007K"
TAXATION = "11410581005000005D"
MARKET_REGULATION = "114105810050000024"
EDUCATION = "11410581005000008N"

MARRIAGE_REGISTRY = Caller(CIVIL_AFFAIRS, "林州市民政局", "marriage-registry")
SOCIAL_RELIEF = Caller(CIVIL_AFFAIRS, "林州市民政局", "social-relief")
HOUSING_PERMITS = Caller(HOUSING, "林州市住房和城乡建设局", "permits")
TAX_COLLECTION = Caller(TAXATION, "国家税务总局林州市税务局", "tax-collection")
MARKET_SUPERVISION = Caller(MARKET_REGULATION, "林州市市场监督管理局", "supervision")
SCHOOL_ENROLMENT = Caller(EDUCATION, "林州市教育局", "enrolment")

DEPARTMENTS = (
    MARRIAGE_REGISTRY,
    SOCIAL_RELIEF,
    HOUSING_PERMITS,
    TAX_COLLECTION,
    MARKET_SUPERVISION,
    SCHOOL_ENROLMENT,
)
PURPOSES: tuple[Purpose | None, ...] = (None, *Purpose)
NOW = datetime.datetime(2026, 11, 25, 9, 30, tzinfo=datetime.UTC)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(ROOT / "catalog" / "departments")


@pytest.fixture(scope="module")
def rules(catalog: Catalog) -> RuleSet:
    return load_rules(ROOT / "policies", catalog)


@pytest.fixture
def policy(catalog: Catalog, rules: RuleSet) -> SharingPolicy:
    """A fresh policy per test, so no test sees another's cached decisions."""
    return SharingPolicy(catalog, rules)


def items_of(catalog: Catalog, share_type: ShareType) -> list[tuple[str, str]]:
    return [
        (resource.id, item.name)
        for resource in catalog.resources.values()
        for item in resource.items
        if item.share_type is share_type
    ]


def decide(
    policy: SharingPolicy, caller: Caller, resource_id: str, item: str, purpose: Purpose | None
) -> Decision:
    resource = policy.catalog.resources[resource_id]
    return policy.decide(caller, resource, resource.item(item), purpose, NOW)


def denial_code(decision: Decision) -> str | None:
    return None if decision.denial is None else decision.denial.reason


def fate(decision: Decision) -> str:
    """ "clear", "masked" or the denial's code."""
    return decision.denial.reason if decision.denial else decision.outcome.value


def ungranted(policy: SharingPolicy, resource_id: str, item: str) -> str:
    """What a department with no rule for a conditional item gets: the catalog decides."""
    data_item = policy.catalog.resources[resource_id].item(item)
    if data_item.mask is not None and data_item.masked_for is MaskedFor.ALL_DEPARTMENTS:
        return "masked"
    return "APPLICATION_REQUIRED"


def application(decision: Decision) -> ApplicationRequest:
    assert decision.denial is not None
    assert decision.denial.reason == "APPLICATION_REQUIRED"
    assert decision.denial.application is not None
    return decision.denial.application


def test_catalog_has_items_of_every_share_type(catalog: Catalog) -> None:
    """Guards the sweeps below against passing vacuously."""
    for share_type in ShareType:
        assert items_of(catalog, share_type), share_type


def test_unconditional_items_are_clear_for_every_department(policy: SharingPolicy) -> None:
    for resource_id, item in items_of(policy.catalog, ShareType.UNCONDITIONAL):
        for caller in DEPARTMENTS:
            for purpose in PURPOSES:
                decision = decide(policy, caller, resource_id, item, purpose)
                assert decision.allowed, (resource_id, item, caller.department, purpose)
                assert decision.denial is None
                assert decision.basis == "catalog:unconditional"


def test_not_shared_items_are_denied_to_everyone(policy: SharingPolicy) -> None:
    for resource_id, item in items_of(policy.catalog, ShareType.NOT_SHARED):
        legal_basis = policy.catalog.resources[resource_id].item(item).legal_basis
        for caller in (*DEPARTMENTS, PUBLIC):
            for purpose in PURPOSES:
                decision = decide(policy, caller, resource_id, item, purpose)
                assert not decision.allowed
                assert denial_code(decision) == "NOT_SHARED", (resource_id, item, caller)
                assert decision.denial is not None
                assert decision.denial.legal_basis == legal_basis
                assert decision.basis == "catalog:not_shared"


def test_provider_cannot_read_its_own_not_shared_item(policy: SharingPolicy) -> None:
    decision = decide(
        policy, TAX_COLLECTION, "tax_registration", "annualTaxPaid", Purpose.ADMINISTRATIVE_BASIS
    )
    assert denial_code(decision) == "NOT_SHARED"
    assert decision.denial is not None
    assert decision.denial.field == "TaxRegistration.annualTaxPaid"
    assert decision.denial.legal_basis is not None
    assert "税收征收管理法" in decision.denial.legal_basis


def test_conditional_item_without_purpose_needs_one(policy: SharingPolicy) -> None:
    for resource_id, item in items_of(policy.catalog, ShareType.CONDITIONAL):
        provider = policy.catalog.provider_of[resource_id].department.code
        for caller in DEPARTMENTS:
            if caller.department == provider:
                continue
            decision = decide(policy, caller, resource_id, item, None)
            assert denial_code(decision) == "PURPOSE_REQUIRED", (resource_id, item, caller)
            assert decision.denial is not None
            assert decision.denial.field.endswith(f".{item}")


def test_granted_purpose_is_clear_and_names_the_rule(policy: SharingPolicy) -> None:
    decision = decide(
        policy, MARRIAGE_REGISTRY, "person", "householdAddress", Purpose.ADMINISTRATIVE_BASIS
    )
    assert decision.allowed
    assert decision.clear
    assert decision.basis == "public_security.csv:3"


def test_other_purpose_requires_an_application(policy: SharingPolicy) -> None:
    decision = decide(
        policy, MARRIAGE_REGISTRY, "enterprise", "legalRepIdNumber", Purpose.WORK_REFERENCE
    )
    assert not decision.allowed
    assert decision.denial is not None
    assert decision.denial.field == "Enterprise.legalRepIdNumber"
    enterprise = policy.catalog.resources["enterprise"]
    assert application(decision) == ApplicationRequest(
        resource_id="enterprise",
        resource_code=enterprise.code,
        resource_name_zh="市场主体登记信息",
        provider_name="林州市市场监督管理局",
        provider_code=MARKET_REGULATION,
        items=("legalRepIdNumber",),
        purpose=Purpose.WORK_REFERENCE,
        conditions="限行政依据、数据校核用途，经市场监督管理局批准后使用。",
    )
    assert "林州市市场监督管理局" in field_denied(decision.denial).message


def test_system_rule_does_not_extend_to_other_systems(policy: SharingPolicy) -> None:
    purpose = Purpose.ADMINISTRATIVE_BASIS
    assert decide(policy, MARRIAGE_REGISTRY, "person", "householdAddress", purpose).allowed
    other = decide(policy, SOCIAL_RELIEF, "person", "householdAddress", purpose)
    assert other.outcome is Outcome.MASKED  # what every department sees without a grant
    no_system = Caller(CIVIL_AFFAIRS, "林州市民政局")
    assert decide(policy, no_system, "person", "householdAddress", purpose).outcome is (
        Outcome.MASKED
    )


def test_group_rule_applies_to_each_member_department(policy: SharingPolicy) -> None:
    purpose = Purpose.BUSINESS_COLLABORATION
    for caller in (MARRIAGE_REGISTRY, SOCIAL_RELIEF, HOUSING_PERMITS):
        decision = decide(policy, caller, "person", "phone", purpose)
        assert decision.allowed, caller
        assert decision.clear
        assert decision.basis == "public_security.csv:6"


def test_group_rule_does_not_apply_to_non_members(policy: SharingPolicy) -> None:
    purpose = Purpose.BUSINESS_COLLABORATION
    for caller in (TAX_COLLECTION, MARKET_SUPERVISION, SCHOOL_ENROLMENT):
        decision = decide(policy, caller, "person", "phone", purpose)
        assert decision.outcome is Outcome.MASKED, caller


def test_group_rule_is_limited_to_its_purpose(policy: SharingPolicy) -> None:
    decision = decide(policy, HOUSING_PERMITS, "person", "phone", Purpose.ADMINISTRATIVE_BASIS)
    assert decision.outcome is Outcome.MASKED


def test_resource_wildcard_covers_every_conditional_item(policy: SharingPolicy) -> None:
    conditional = [
        item
        for resource_id, item in items_of(policy.catalog, ShareType.CONDITIONAL)
        if resource_id == "enterprise"
    ]
    assert conditional
    for item in conditional:
        decision = decide(policy, TAX_COLLECTION, "enterprise", item, Purpose.ADMINISTRATIVE_BASIS)
        assert decision.allowed, item
        assert decision.clear
        assert decision.basis == "market_regulation.csv:6"
        other = decide(policy, TAX_COLLECTION, "enterprise", item, Purpose.WORK_REFERENCE)
        assert fate(other) == ungranted(policy, "enterprise", item), item


def test_resource_wildcard_stays_within_its_resource(policy: SharingPolicy) -> None:
    purpose = Purpose.ADMINISTRATIVE_BASIS
    for resource_id, item in (("person", "householdAddress"), ("land_parcel", "boundary")):
        decision = decide(policy, TAX_COLLECTION, resource_id, item, purpose)
        assert fate(decision) == ungranted(policy, resource_id, item), (resource_id, item)
    assert fate(decide(policy, TAX_COLLECTION, "land_parcel", "boundary", purpose)) == (
        "APPLICATION_REQUIRED"
    )


def test_department_reads_its_own_conditional_items(policy: SharingPolicy) -> None:
    for purpose in Purpose:
        decision = decide(policy, MARKET_SUPERVISION, "enterprise", "contactPhone", purpose)
        assert decision.allowed, purpose
        assert decision.basis == "provider:own_data"
    own_tax = decide(
        policy, TAX_COLLECTION, "tax_registration", "creditRating", Purpose.WORK_REFERENCE
    )
    assert own_tax.allowed
    assert own_tax.basis == "provider:own_data"


def test_department_without_rules_gets_no_conditional_item(policy: SharingPolicy) -> None:
    for resource_id, item in items_of(policy.catalog, ShareType.CONDITIONAL):
        for purpose in Purpose:
            decision = decide(policy, SCHOOL_ENROLMENT, resource_id, item, purpose)
            expected = ungranted(policy, resource_id, item)
            assert fate(decision) == expected, (resource_id, item, purpose)
            if expected == "APPLICATION_REQUIRED":
                assert application(decision).items == (item,)
                assert application(decision).purpose is purpose


def test_public_reads_unconditional_items_of_open_resources(policy: SharingPolicy) -> None:
    enterprise = policy.catalog.resources["enterprise"]
    assert enterprise.open_to_public
    for item in enterprise.items:
        if item.share_type is not ShareType.UNCONDITIONAL:
            continue
        for purpose in PURPOSES:
            decision = policy.decide(PUBLIC, enterprise, item, purpose, NOW)
            if item.mask is None:
                assert decision.clear, (item.name, purpose)
                assert decision.basis == "catalog:open_to_public"
            else:  # a legal representative's name keeps the surname for the public
                assert decision.outcome is Outcome.MASKED, (item.name, purpose)
                assert decision.mask == item.mask
                assert decision.basis == "catalog:masked_for_public"


def test_public_is_refused_everything_else(policy: SharingPolicy) -> None:
    refused = 0
    for resource in policy.catalog.resources.values():
        for item in resource.items:
            if item.share_type is ShareType.NOT_SHARED:
                continue  # NOT_SHARED for everyone, see above
            if resource.open_to_public and item.share_type is ShareType.UNCONDITIONAL:
                continue
            for purpose in PURPOSES:
                decision = policy.decide(PUBLIC, resource, item, purpose, NOW)
                assert denial_code(decision) == "NOT_OPEN", (resource.id, item.name, purpose)
                refused += 1
    assert refused


def test_public_is_refused_conditional_items_of_open_resources(policy: SharingPolicy) -> None:
    for item in ("contactPhone", "legalRepIdNumber"):
        for purpose in PURPOSES:
            decision = decide(policy, PUBLIC, "enterprise", item, purpose)
            assert denial_code(decision) == "NOT_OPEN", (item, purpose)
            assert decision.denial is not None
            assert decision.denial.field == f"Enterprise.{item}"


def test_decisions_are_cached(policy: SharingPolicy, monkeypatch: pytest.MonkeyPatch) -> None:
    original = RuleIndex.match
    calls: list[tuple[Any, ...]] = []

    def counting_match(*args: Any) -> Any:
        calls.append(args)
        return original(*args)

    monkeypatch.setattr(RuleIndex, "match", counting_match)
    purpose = Purpose.ADMINISTRATIVE_BASIS
    first = decide(policy, MARRIAGE_REGISTRY, "person", "householdAddress", purpose)
    second = decide(policy, MARRIAGE_REGISTRY, "person", "householdAddress", purpose)
    assert second is first
    assert len(calls) == 1


def test_cache_keeps_systems_and_purposes_apart(policy: SharingPolicy) -> None:
    """A cached grant must not answer for another system or another purpose."""
    granted = Purpose.ADMINISTRATIVE_BASIS
    assert decide(policy, MARRIAGE_REGISTRY, "person", "householdAddress", granted).allowed
    assert not decide(policy, SOCIAL_RELIEF, "person", "householdAddress", granted).clear
    other = Purpose.WORK_REFERENCE
    assert not decide(policy, MARRIAGE_REGISTRY, "person", "householdAddress", other).clear
    assert denial_code(decide(policy, MARRIAGE_REGISTRY, "person", "householdAddress", None)) == (
        "PURPOSE_REQUIRED"
    )
    assert decide(policy, MARRIAGE_REGISTRY, "person", "householdAddress", granted).allowed


def test_a_cached_decision_expires_when_a_grant_starts_and_ends(catalog: Catalog) -> None:
    """No clock is faked: the decision is asked for at given times, as each request does."""
    start, end = NOW + datetime.timedelta(hours=1), NOW + datetime.timedelta(hours=2)
    grant = Grant(
        consumer=EDUCATION,
        resource_id="person",
        items=("phone",),
        action=Action.READ_CLEAR,
        purposes=(Purpose.BUSINESS_COLLABORATION,),
        reference="林公数〔2026〕12号",
        valid_from=start,
        valid_until=end,
        id=7,
    )
    rules = load_rules(ROOT / "policies", catalog, rules_of([grant]))
    policy = SharingPolicy(catalog, rules)
    person = catalog.resources["person"]
    phone, purpose = person.item("phone"), Purpose.BUSINESS_COLLABORATION

    def at(moment: datetime.datetime) -> Decision:
        return policy.decide(SCHOOL_ENROLMENT, person, phone, purpose, moment)

    before = at(NOW)
    assert before.outcome is Outcome.MASKED
    assert at(start - datetime.timedelta(microseconds=1)) is before  # still cached
    during = at(start)
    assert during.clear and during.basis == "grant:7"
    assert at(end - datetime.timedelta(microseconds=1)) is during
    assert at(end).outcome is Outcome.MASKED


def test_a_scoped_grant_is_clear_only_inside_its_scope(catalog: Catalog) -> None:
    grant = Grant(
        consumer=f"{EDUCATION}/enrolment",
        resource_id="person",
        items=("householdAddress",),
        action=Action.READ_CLEAR,
        purposes=(Purpose.ADMINISTRATIVE_BASIS,),
        reference="林公数〔2026〕12号",
        scope="township=township",
        id=8,
    )
    policy = SharingPolicy(catalog, load_rules(ROOT / "policies", catalog, rules_of([grant])))
    decision = decide(
        policy, SCHOOL_ENROLMENT, "person", "householdAddress", Purpose.ADMINISTRATIVE_BASIS
    )
    assert decision.clear and decision.basis == "grant:8"
    assert [scope.text for scope in decision.scopes] == ["township=township"]
    assert decision.fallback is not None and decision.fallback.outcome is Outcome.MASKED
    other = decide(policy, SCHOOL_ENROLMENT, "person", "householdAddress", Purpose.WORK_REFERENCE)
    assert other.outcome is Outcome.MASKED and not other.scoped


def test_verification_needs_a_verify_rule_or_clear_reading(policy: SharingPolicy) -> None:
    registration = policy.catalog.resources["marriage_registration"]
    certificate = registration.item("certificateNumber")
    purpose = Purpose.DATA_VERIFICATION
    tax = policy.decide(TAX_COLLECTION, registration, certificate, purpose, NOW, Action.VERIFY)
    assert tax.outcome is Outcome.VERIFIED and tax.basis == "civil_affairs.csv:7"
    reading = policy.decide(TAX_COLLECTION, registration, certificate, purpose, NOW)
    assert fate(reading) == "APPLICATION_REQUIRED"  # verifying is not reading
    other = policy.decide(SCHOOL_ENROLMENT, registration, certificate, purpose, NOW, Action.VERIFY)
    assert fate(other) == "NOT_VERIFIABLE"
    name = registration.item("partyAName")  # unconditional: anyone may check it
    assert policy.decide(SCHOOL_ENROLMENT, registration, name, None, NOW, Action.VERIFY).clear


def test_every_decision_holds_until_the_next_start_or_end_of_any_rule(
    catalog: Catalog,
) -> None:
    """Asked again and again as time passes: each answer is the next change after the
    time asked, never one already past (the last answer is remembered until it comes)."""
    start = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    hour = datetime.timedelta(hours=1)
    grant = Rule(
        "11410581005000008N",
        "person.householdAddress",
        "read_clear",
        "*",
        valid_from=instant(start),
        valid_until=instant(start + 2 * hour),
        basis="grant:1",
    )
    policy = SharingPolicy(catalog, load_rules(ROOT / "policies", catalog, [grant]))
    asked = [start - hour, start - hour / 2, start, start + hour, start + 2 * hour, start - hour]
    assert [policy.stable_until(moment) for moment in asked] == [
        instant(start),
        instant(start),
        instant(start + 2 * hour),
        instant(start + 2 * hour),
        None,
        instant(start),
    ]
