"""Nothing leaks, for any caller, purpose, grants, data and query (hypothesis).

Hypothesis draws callers (with their attributes), purposes, grants (with scopes and
validity windows), rows, and queries with aliases, fragments, relationships, filters
and orderings. The governed executor answers from a real SQLite database; an oracle
answers the same question row by row from the catalog and the sharing model (Casbin,
asked with the scopes each row satisfies). Every value served must be exactly what
the oracle permits: clear, masked as the catalog says, or null with an error; and
every identifier served, clear or masked, names its subject among the subjects the
outcome hands to the audit record (Art. 11).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cmp_to_key
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog import DataItem, MaskedFor, Relationship, Resource, ShareType, load_catalog
from connectors import Connector, SqliteConnector
from demo.tables import build_table, joined_items
from grants import Grant, GrantRefused, checked, rules_of
from policies.caller import PUBLIC, Caller, Purpose
from policies.decision import Action
from policies.engine import SharingPolicy
from policies.rule import Rule, instant
from policies.rules import RuleSet, load_rules
from policies.scope import Scope
from resolvers import Executor, GraphQLRequest, Limits, Pinned, Served
from schema.build import build_schema
from settings import ROOT

# Slow: leave out with -m 'not slow' (README); CI runs it.
pytestmark = pytest.mark.slow

CATALOG = load_catalog(ROOT / "catalog" / "departments")
PERSON = CATALOG.resources["person"]
ENTERPRISE = CATALOG.resources["enterprise"]
INSURANCE = CATALOG.resources["insurance_contribution"]
RESOURCES = (PERSON, ENTERPRISE, INSURANCE)
FIELDS = {
    "person": ("name", "township", "householdAddress", "phone"),
    "enterprise": ("legalRepName", "legalRepIdNumber", "contactPhone", "industry"),
    "insurance_contribution": (
        "contributionBase",
        "personalContribution",
        "paymentStatus",
        "monthlyWage",
    ),
}
RELATIONS = {
    "person": ("insuranceContributions", "representedEnterprises"),
    "enterprise": ("legalRepresentative", "insuranceContributions"),
    "insurance_contribution": ("person",),
}
TOWNSHIPS = ("开元街道", "横水镇", "城郊乡")
INDUSTRIES = ("建筑工程", "商贸")
PEOPLE = tuple(f"41058119800101{n:04d}" for n in range(6))
COMPANIES = tuple(f"91410581MA4{n:07d}" for n in range(5))
EDUCATION, CIVIL, TAX, HOUSING = (
    "11410581005000008N",
    "11410581005000006G",
    "11410581005000005D",
    "11410581005000007K",
)
MARKET, HRSS = "114105810050000024", "11410581005000009Q"
CALLERS = (
    PUBLIC,
    Caller(EDUCATION, "林州市教育局", "school-enrolment", None, (("township", "开元街道"),)),
    Caller(
        EDUCATION,
        "林州市教育局",
        "training",
        None,
        (("industry", "建筑工程"), ("township", "横水镇")),
    ),
    Caller(CIVIL, "林州市民政局", "marriage-registry"),
    Caller(TAX, "国家税务总局林州市税务局", "tax-admin"),
    Caller(HOUSING, "林州市住房和城乡建设局", "planning-permits"),
    Caller(MARKET, "林州市市场监督管理局", "registration"),
)
SCOPES = {"person": "township=township", "enterprise": "industry=industry"}


def _background(count: int) -> tuple[Rule, ...]:
    """Grants to others, as a store holds many: other departments, and the callers'
    departments' other systems, over the same items, actions, purposes and scopes. None
    may apply to a caller asking; the index must find the caller's among them."""
    draw = random.Random(20201)
    conditional = [(r, i) for r in RESOURCES for i in r.items if i.share_type == "conditional"]
    made = []
    for number in range(count):
        resource, item = draw.choice(conditional)
        department = draw.choice([f"91410581MA{number % 97:08d}", EDUCATION, CIVIL, TAX])
        consumer = department if department.startswith("91") else f"{department}/other-{number}"
        action = draw.choice([Action.READ_CLEAR, Action.VERIFY])
        grant = Grant(
            consumer=consumer,
            resource_id=resource.id,
            items=(item.name,),
            action=action,
            purposes=(draw.choice(list(Purpose)),),
            reference="background",
            scope=draw.choice(["", SCOPES.get(resource.id, "")]),
            id=1000 + number,
        )
        made.extend(grant.rules())
    return tuple(made)


BACKGROUND = _background(300)


# ---- data -------------------------------------------------------------------------


def _text(options: tuple[str, ...]) -> st.SearchStrategy[str | None]:
    return st.none() | st.sampled_from(options)


@st.composite
def people(draw: st.DrawFn) -> list[dict[str, Any]]:
    ids = draw(st.lists(st.sampled_from(PEOPLE), unique=True, max_size=5))
    rows = []
    for id_number in ids:
        township = draw(_text(TOWNSHIPS))
        address = draw(st.none() | st.sampled_from(["", "村12号", "路8号3单元"]))
        rows.append(
            {
                "id_number": id_number,
                "name": draw(st.sampled_from(["张伟", "欧阳娜娜", "李"])),
                "township": township,
                "household_address": None
                if address is None
                else f"河南省林州市{township or ''}{address}",
                "phone": draw(st.none() | st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)),
            }
        )
    return rows


@st.composite
def enterprises(draw: st.DrawFn) -> list[dict[str, Any]]:
    codes = draw(st.lists(st.sampled_from(COMPANIES), unique=True, max_size=4))
    return [
        {
            "credit_code": code,
            "legal_rep_name": draw(st.sampled_from(["王芳", "司马光"])),
            "legal_rep_id_number": draw(_text(PEOPLE)),
            "contact_phone": draw(
                st.none() | st.sampled_from(["0372-6221234", "13912345678", "12"])
            ),
            "industry": draw(_text(INDUSTRIES)),
        }
        for code in codes
    ]


amounts = st.none() | st.decimals(
    min_value=Decimal("-10"), max_value=Decimal("20000"), places=2, allow_nan=False
)


@st.composite
def contributions(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(0, 5))
    return [
        {
            "record_number": f"R{n:04d}",
            "person_id_number": draw(_text(PEOPLE)),
            "employer_credit_code": draw(_text(COMPANIES)),
            "contribution_base": draw(
                st.none() | st.sampled_from([Decimal("3000"), Decimal("2999.99")]) | amounts
            ),
            "personal_contribution": draw(amounts),
            "payment_status": draw(_text(("已缴", "欠缴"))),
            "monthly_wage": draw(amounts),
        }
        for n in range(count)
    ]


# ---- grants -----------------------------------------------------------------------


def _conditional(resource: Resource) -> list[str]:
    return [i.name for i in resource.items if i.share_type is ShareType.CONDITIONAL]


@st.composite
def grants(
    draw: st.DrawFn, now: datetime.datetime, caller: Caller, purpose: Purpose | None
) -> list[Grant]:
    """Mostly grants that concern the asking caller and its purpose, so that scopes,
    windows and actions meet the query often; some for others, which must not apply."""
    made = []
    for number in range(draw(st.integers(0, 4))):
        resource = draw(st.sampled_from(RESOURCES))
        grantee = caller
        if caller.is_public or not draw(st.integers(0, 3)):
            grantee = draw(st.sampled_from(CALLERS[1:]))
        hours = st.none() | st.none() | st.integers(-48, 48)
        start, end = draw(hours), draw(hours)
        purposes = draw(st.lists(st.sampled_from(list(Purpose)), min_size=1, unique=True))
        if purpose is not None and draw(st.integers(0, 3)):
            purposes = [purpose, *(p for p in purposes if p is not purpose)]
        items = draw(st.lists(st.sampled_from(_conditional(resource)), min_size=1, unique=True))
        grant = Grant(
            consumer=draw(st.sampled_from([grantee.department, grantee.system_subject])),
            resource_id=resource.id,
            items=tuple(items),
            action=draw(st.sampled_from([Action.READ_CLEAR, Action.READ_CLEAR, *Action])),
            purposes=tuple(purposes),
            reference="test",
            scope=draw(st.sampled_from(["", *[SCOPES.get(resource.id, "")] * 2])),
            valid_from=None if start is None else now + datetime.timedelta(hours=start),
            valid_until=None if end is None else now + datetime.timedelta(hours=end),
            id=number + 1,
        )
        try:
            made.append(checked(grant, CATALOG))
        except GrantRefused:
            continue
    return made


# ---- queries ----------------------------------------------------------------------


@dataclass(repr=False)
class Level:
    resource: Resource
    fields: list[tuple[str, str]]
    """(alias, item name)"""
    relations: list[tuple[str, Relationship, Level]] = field(default_factory=list)
    where: tuple[str, str, Any] | None = None
    order: tuple[str, bool] | None = None
    fragment: bool = False

    def __repr__(self) -> str:  # what hypothesis prints for a failing example
        return render(self, True, self.resource.list_field, "root")


def _item_values(resource_id: str, name: str) -> list[Any]:
    return {
        ("person", "township"): list(TOWNSHIPS),
        ("person", "name"): ["张伟", "李"],
        ("enterprise", "industry"): list(INDUSTRIES),
        ("enterprise", "legalRepIdNumber"): list(PEOPLE[:2]),
        ("insurance_contribution", "paymentStatus"): ["已缴"],
        ("insurance_contribution", "contributionBase"): [Decimal("3000"), Decimal("2999.99")],
        ("insurance_contribution", "personalContribution"): [Decimal("3000")],
        ("insurance_contribution", "monthlyWage"): [Decimal("3000")],
        ("person", "phone"): ["13912345678"],
        ("person", "householdAddress"): ["河南省林州市横水镇村12号"],
        ("enterprise", "contactPhone"): ["12"],
    }.get((resource_id, name), ["x"])


@st.composite
def levels(draw: st.DrawFn, resource: Resource, depth: int, connection: bool) -> Level:
    names = FIELDS[resource.id]
    chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
    fields = [(resource.key_item, resource.key_item)]
    fields += [(draw(st.sampled_from([name, f"a_{name}"])), name) for name in chosen]
    level = Level(resource, fields, fragment=draw(st.booleans()))
    if connection:
        filtered = draw(st.none() | st.sampled_from(names))
        if filtered is not None:
            op = draw(st.sampled_from(["_eq", "_is_null"]))
            value = (
                draw(st.sampled_from(_item_values(resource.id, filtered)))
                if op == "_eq"
                else draw(st.booleans())
            )
            level.where = (filtered, op, value)
        ordered = draw(st.none() | st.sampled_from(names))
        if ordered is not None:
            level.order = (ordered, draw(st.booleans()))
    if depth > 0:
        for name in draw(
            st.lists(st.sampled_from(RELATIONS[resource.id]), unique=True, max_size=1)
        ):
            relationship = next(r for r in resource.relationships if r.name == name)
            target = CATALOG.resources[relationship.to_resource]
            many = relationship.cardinality.value == "many"
            child = draw(levels(target, depth - 1, many))
            level.relations.append((f"r_{name}", relationship, child))
    return level


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f'"{value}"'


def render(level: Level, connection: bool, field_name: str, alias: str) -> str:
    inner = " ".join(f"{a}: {n}" if a != n else n for a, n in level.fields)
    for rel_alias, relationship, child in level.relations:
        many = relationship.cardinality.value == "many"
        inner += " " + render(child, many, relationship.name, rel_alias)
    if level.fragment:
        inner = f"... on {level.resource.type_name} {{ {inner} }}"
    if not connection:
        return f"{alias}: {field_name} {{ {inner} }}"
    arguments = ["first: 50"]
    if level.where is not None:
        name, op, value = level.where
        arguments.append(f"where: {{{name}: {{{op}: {_literal(value)}}}}}")
    if level.order is not None:
        name, descending = level.order
        arguments.append(f"orderBy: [{{{name}: {'desc' if descending else 'asc'}}}]")
    return f"{alias}: {field_name}({', '.join(arguments)}) {{ edges {{ node {{ {inner} }} }} }}"


# ---- the oracle -------------------------------------------------------------------


@dataclass
class Oracle:
    rules: RuleSet
    caller: Caller
    purpose: Purpose | None
    now: str
    tables: dict[str, list[dict[str, Any]]]
    asked: dict[tuple[str, str, Action, tuple[str, ...]], bool] = field(default_factory=dict)
    subjects: dict[str, set[Any]] = field(default_factory=dict)
    """The subjects the outcome accounts for, by resource (for the audit record)."""

    def fate(self, resource: Resource, item: DataItem, row: dict[str, Any]) -> str:
        """'clear', 'masked' or 'denied' for this caller, purpose, time and row."""
        if item.share_type is ShareType.NOT_SHARED:
            return "denied"
        if self.caller.is_public:
            if not resource.open_to_public or item.share_type is not ShareType.UNCONDITIONAL:
                return "denied"
            return "masked" if item.mask is not None else "clear"
        if item.share_type is ShareType.UNCONDITIONAL:
            return "clear"
        if self.purpose is None:
            return "denied"
        if self.caller.department == CATALOG.provider_of[resource.id].department.code:
            return "clear"
        if self._allows(resource, item, Action.READ_CLEAR, self._satisfied(resource, row)):
            return "clear"
        if item.mask is not None and (
            item.masked_for is MaskedFor.ALL_DEPARTMENTS
            or self._allows(resource, item, Action.READ_MASKED, [""])
        ):
            return "masked"
        return "denied"

    def everywhere(self, resource: Resource, item: DataItem) -> bool:
        """Clear on every row: on a row that satisfies no scope, it is clear."""
        return self.fate(resource, item, {}) == "clear"

    def scopes(self, resource: Resource, item: DataItem) -> list[str]:
        """The scopes within which the item is clear, when it is not clear everywhere."""
        if self.purpose is None or self.caller.is_public:
            return []
        return [
            scope
            for scope in self.rules.scopes.get(resource.id, ())
            if self._allows(resource, item, Action.READ_CLEAR, [scope])
        ]

    def inside(self, resource: Resource, item: DataItem, row: dict[str, Any]) -> bool:
        """Whether a row is inside a scope the item is clear in."""
        return bool(set(self._satisfied(resource, row)) & set(self.scopes(resource, item)))

    def _satisfied(self, resource: Resource, row: dict[str, Any]) -> list[str]:
        values = {item.name: row.get(item.column) for item in resource.items}
        if self.caller.is_public or self.purpose is None:
            return [""]
        attributes = self.caller.attribute_values
        return [""] + [
            text
            for text in self.rules.scopes.get(resource.id, ())
            if Scope.parse(text).holds(values, attributes)
        ]

    def _allows(self, resource: Resource, item: DataItem, action: Action, scopes: Any) -> bool:
        """Casbin's answer, remembered: the oracle asks the same of every row."""
        key = (resource.id, item.name, action, tuple(scopes))
        if key not in self.asked:
            self.asked[key] = self._ask(resource, item, action, scopes)
        return self.asked[key]

    def _ask(self, resource: Resource, item: DataItem, action: Action, scopes: Any) -> bool:
        assert self.purpose is not None
        return any(
            self.rules.enforcer.enforce(
                self.caller.subject,
                self.caller.system_subject,
                f"{resource.id}.{item.name}",
                action.value,
                self.purpose.value,
                self.now,
                scope,
            )
            for scope in scopes
        )

    def value(self, resource: Resource, item: DataItem, row: dict[str, Any]) -> Any:
        fate = self.fate(resource, item, row)
        raw = row.get(item.column)
        if fate == "denied":
            return None
        if fate == "masked":
            assert item.mask is not None
            return item.mask.apply(raw)
        return raw


def _same(served: Any, expected: Any) -> bool:
    if expected is None or served is None:
        return served is expected
    if isinstance(expected, Decimal):
        return Decimal(str(served)) == expected
    return bool(served == expected)


def _filter_holds(row: dict[str, Any], column: str, op: str, value: Any) -> bool:
    if op == "_is_null":
        return (row[column] is None) == value
    return row[column] is not None and row[column] == value


def _ordered(rows: list[dict[str, Any]], column: str, descending: bool) -> list[dict[str, Any]]:
    """As the connector orders: NULL lowest, then the record key ascending on ties."""

    def rank(row: dict[str, Any]) -> tuple[Any, ...]:
        return (0,) if row[column] is None else (1, row[column])

    def compare(a: dict[str, Any], b: dict[str, Any]) -> int:
        if rank(a) != rank(b):
            result = -1 if rank(a) < rank(b) else 1
            return -result if descending else result
        return -1 if a["__key"] < b["__key"] else int(a["__key"] > b["__key"])

    return sorted(rows, key=cmp_to_key(compare))


def check_connection(
    oracle: Oracle, level: Level, rows: list[dict[str, Any]], served: Any, errors: set[str]
) -> None:
    resource = level.resource
    key = resource.item(resource.key_item).column
    candidates = [dict(r, __key=r[key]) for r in rows]
    for use in (level.where, level.order):
        if use is None:
            continue
        item = resource.item(use[0])
        if oracle.everywhere(resource, item):
            continue
        if not oracle.scopes(resource, item):
            assert served is None, (use, served)
            assert errors, "a refused filter or order comes with its error"
            return
        candidates = [r for r in candidates if oracle.inside(resource, item, r)]
    if level.where is not None:
        name, op, value = level.where
        candidates = [
            r for r in candidates if _filter_holds(r, resource.item(name).column, op, value)
        ]
    if level.order is not None:
        candidates = _ordered(candidates, resource.item(level.order[0]).column, level.order[1])
    else:
        candidates = sorted(candidates, key=lambda r: r["__key"])
    assert served is not None
    nodes = [edge["node"] for edge in served["edges"]]
    assert [n[resource.key_item] for n in nodes] == [r[key] for r in candidates]
    for node, row in zip(nodes, candidates, strict=True):
        check_node(oracle, level, row, node, errors)


def check_node(
    oracle: Oracle, level: Level, row: dict[str, Any], node: dict[str, Any], errors: set[str]
) -> None:
    resource = level.resource
    for alias, name in level.fields:
        item = resource.item(name)
        expected = oracle.value(resource, item, row)
        assert _same(node[alias], expected), (resource.id, name, node[alias], expected)
        if item.identifies is not None and node[alias] is not None:
            subjects = oracle.subjects.get(resource.id, set())
            assert row[item.column] in subjects, (resource.id, name, "not among the subjects")
        if expected is None and row.get(item.column) is not None:
            assert f"{resource.type_name}.{name}" in errors, (resource.id, name, errors)
    for alias, relationship, child in level.relations:
        check_relation(oracle, resource, relationship, child, row, node[alias], errors)


def check_relation(
    oracle: Oracle,
    resource: Resource,
    relationship: Relationship,
    child: Level,
    row: dict[str, Any],
    served: Any,
    errors: set[str],
) -> None:
    target = CATALOG.resources[relationship.to_resource]
    from_item, to_item = resource.item(relationship.from_item), target.item(relationship.to_item)
    joinable = oracle.everywhere(resource, from_item) and oracle.everywhere(target, to_item)
    if not joinable:
        assert served is None
        return
    value = row[from_item.column]
    related = [
        r for r in oracle.tables[target.id] if value is not None and r[to_item.column] == value
    ]
    if relationship.cardinality.value == "one":
        if not related:
            assert served is None
            return
        check_node(
            oracle,
            child,
            dict(related[0], __key=related[0][target.item(target.key_item).column]),
            served,
            errors,
        )
        return
    if value is None:
        assert served is None
        return
    check_connection(oracle, child, related, served, errors)


# ---- the test ---------------------------------------------------------------------


@dataclass
class Sources:
    """One SQLite database holding the three tables, its connector, and a plain reader."""

    path: Path
    connector: SqliteConnector
    engine: sa.Engine
    tables: dict[str, sa.Table]

    def read_back(self, resource: Resource) -> list[dict[str, Any]]:
        """Rows as the database returns them (Decimal for NUMERIC): the oracle's data."""
        with self.engine.connect() as connection:
            result = connection.execute(sa.select(self.tables[resource.id])).mappings()
            return [dict(row) for row in result]


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sources]:
    path = tmp_path_factory.mktemp("property") / "sources.db"
    metadata = sa.MetaData()
    joined = joined_items(CATALOG.departments)
    tables = {resource.id: build_table(metadata, resource, joined) for resource in RESOURCES}
    engine = sa.create_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    connector = SqliteConnector("sources", f"sqlite:///{path}")
    yield Sources(path, connector, engine, tables)
    asyncio.run(connector.close())
    engine.dispose()


SCHEMA, MEANINGS = build_schema(CATALOG, default_first=20)


def _load(path: Path, tables: dict[str, list[dict[str, Any]]]) -> None:
    with sqlite3.connect(path) as connection:
        for resource in RESOURCES:
            connection.execute(f"DELETE FROM {resource.table}")
            for row in tables[resource.id]:
                columns = ", ".join(row)
                marks = ", ".join("?" for _ in row)
                values = [str(v) if isinstance(v, Decimal) else v for v in row.values()]
                connection.execute(
                    f"INSERT INTO {resource.table} ({columns}) VALUES ({marks})", values
                )


NOW = datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def _levels_of(level: Level) -> list[Level]:
    return [level, *(deeper for _, _, child in level.relations for deeper in _levels_of(child))]


Scenario = tuple[Level, Caller, Purpose | None, list[Grant]]


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A query, who asks it and why, and the grants in force: most of the time one grant
    is aimed at an item the query reads, so actions and windows meet the data often."""
    root = draw(
        st.sampled_from([*RESOURCES, PERSON, ENTERPRISE]).flatmap(lambda r: levels(r, 2, True))
    )
    caller = draw(st.sampled_from(CALLERS) | st.sampled_from(CALLERS[1:3]))  # scoped callers
    purpose = draw(st.none() | st.sampled_from(list(Purpose)) | st.sampled_from(list(Purpose)))
    granted = draw(grants(NOW, caller, purpose))
    level = draw(st.sampled_from(_levels_of(root)))
    wanted = [name for _, name in level.fields if name in _conditional(level.resource)]
    if caller.is_public or not wanted or not draw(st.integers(0, 3)):
        return root, caller, purpose, granted
    action = draw(st.sampled_from([Action.READ_CLEAR, Action.READ_CLEAR, *Action]))
    scope = draw(st.sampled_from(["", *[SCOPES.get(level.resource.id, "")] * 2]))
    aimed = draw(
        _aimed(level, wanted, caller, purpose or Purpose.ADMINISTRATIVE_BASIS, action, scope)
    )
    with contextlib.suppress(GrantRefused):
        granted.append(checked(aimed, CATALOG))
    return root, caller, purpose, granted


@st.composite
def scoped_scenarios(draw: st.DrawFn) -> Scenario:
    """Always a scoped clear grant on an item the query reads, for a caller whose
    attributes the scope compares rows with: the row-by-row path, every time."""
    resource = draw(st.sampled_from([PERSON, ENTERPRISE]))
    root = draw(levels(resource, 1, True))
    wanted = draw(st.sampled_from(_conditional(resource)))
    if wanted not in [name for _, name in root.fields]:
        root.fields.append((f"s_{wanted}", wanted))
    caller = draw(st.sampled_from(CALLERS[1:3]))
    purpose = draw(st.sampled_from(list(Purpose)))
    granted = draw(grants(NOW, caller, purpose))
    aimed = draw(_aimed(root, [wanted], caller, purpose, Action.READ_CLEAR, SCOPES[resource.id]))
    return root, caller, purpose, [*granted, checked(aimed, CATALOG)]


@st.composite
def _aimed(
    draw: st.DrawFn,
    level: Level,
    wanted: list[str],
    caller: Caller,
    purpose: Purpose,
    action: Action,
    scope: str,
) -> Grant:
    hours = st.none() | st.none() | st.integers(-48, 48)
    start, end = draw(hours), draw(hours)
    if start is not None and end is not None and end <= start:
        start, end = end - 1, start + 1
    return Grant(
        consumer=draw(st.sampled_from([caller.department, caller.system_subject])),
        resource_id=level.resource.id,
        items=(draw(st.sampled_from(wanted)),),
        action=action,
        purposes=(purpose,),
        reference="test",
        scope=scope,
        valid_from=None if start is None else NOW + datetime.timedelta(hours=start),
        valid_until=None if end is None else NOW + datetime.timedelta(hours=end),
        id=99,
    )


PROPERTY = settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
DATA = {"persons": people(), "companies": enterprises(), "records": contributions()}


@PROPERTY
@given(scenario=scenarios(), **DATA)
def test_every_value_served_is_what_the_model_permits(
    database: Sources,
    scenario: Scenario,
    persons: list[dict[str, Any]],
    companies: list[dict[str, Any]],
    records: list[dict[str, Any]],
) -> None:
    check(
        database,
        scenario,
        {"person": persons, "enterprise": companies, "insurance_contribution": records},
    )


@PROPERTY
@given(scenario=scoped_scenarios(), **DATA)
def test_a_scoped_grant_serves_exactly_its_scope(
    database: Sources,
    scenario: Scenario,
    persons: list[dict[str, Any]],
    companies: list[dict[str, Any]],
    records: list[dict[str, Any]],
) -> None:
    check(
        database,
        scenario,
        {"person": persons, "enterprise": companies, "insurance_contribution": records},
    )


def check(database: Sources, scenario: Scenario, tables: dict[str, list[dict[str, Any]]]) -> None:
    root, caller, purpose, granted = scenario
    _load(database.path, tables)
    rules = load_rules(ROOT / "policies", CATALOG, [*BACKGROUND, *rules_of(granted)])
    policy = SharingPolicy(CATALOG, rules)
    connectors: dict[str, Connector] = {
        resource.id: database.connector for resource in CATALOG.resources.values()
    }
    # The departments' schema for the public too: this checks governance alone, the
    # line behind the public's schema, which would refuse most of these at validation.
    served = Served(SCHEMA._schema, SCHEMA._schema, MEANINGS, connectors, CATALOG.version)
    executor = Executor(
        Pinned(policy, served),
        cursor_key=bytes(16),
        limits=Limits(max_first=100, batch_bound=1000, max_tokens=5000),
    )
    query = "{ " + render(root, True, root.resource.list_field, "root") + " }"
    outcome = asyncio.run(_execute(executor, query, caller, purpose))
    errors = {e["extensions"].get("field", "") for e in outcome.errors}
    # Stored values are read back as the database returns them (Decimal for NUMERIC).
    stored = {r.id: database.read_back(r) for r in RESOURCES}
    oracle = Oracle(rules, caller, purpose, instant(datetime.datetime.now(datetime.UTC)), stored)
    oracle.subjects = {resource: set(r.subjects) for resource, r in outcome.records.items()}
    if caller.is_public and not root.resource.open_to_public:
        assert outcome.data is None or outcome.data["root"] is None
        return
    assert outcome.data is not None, outcome.errors
    check_connection(oracle, root, stored[root.resource.id], outcome.data["root"], errors)


async def _execute(executor: Executor, query: str, caller: Caller, purpose: Purpose | None) -> Any:
    return await executor.execute(GraphQLRequest(query), caller, purpose)
