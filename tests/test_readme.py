"""The README is what a newcomer trusts first: every command and query in it runs here,
in the order a reader meets it, as the caller it names, and does what it says.

The walkthrough copies the checkout to a temporary folder (a fresh clone, without
`var/`), starts the demo with the README's first command, and runs each example in
turn. Only two things differ from a reader at a terminal: the install prefix of the
first command is left out (the tests already run in the environment it makes), and the
server listens on a free port instead of 8000, which the examples' URLs follow.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import html
import io
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

import errors
from auth import DEMO_SYSTEMS, demo_key, hash_key
from settings import ROOT
from tests.conftest import SEED
from tests.processes import PATH, free_port

README = (ROOT / "README.md").read_text(encoding="utf-8")
INSTALL = "python3 -m pip install uv==0.13.9 && uv sync --frozen && "
EXAMPLE = re.compile(
    r"<!-- example: (?P<meta>[^>]*?) -->\n```(?P<lang>\w+)\n(?P<body>.*?)\n```", re.S
)
RUNNABLE = ("sh", "graphql", "json")
SIGNED_IN = "the token printed above"
"""The caller of an example sent with the token the last `demo-token` command printed."""


@dataclass(frozen=True)
class Example:
    name: str
    lang: str
    body: str
    caller: str | None = None
    """A demo system id, or SIGNED_IN (the person of the last demo token); None is the
    public."""
    purpose: str | None = None


def examples() -> list[Example]:
    found = []
    for match in EXAMPLE.finditer(README):
        name, *pairs = [part.strip() for part in match["meta"].split(";")]
        options = dict(pair.split(": ", 1) for pair in pairs)
        found.append(Example(name, match["lang"], match["body"], **options))
    return found


def test_the_demo_keys_in_the_readme_are_the_derived_ones() -> None:
    listed = dict(re.findall(r"\(`([a-z-]+)`\) \| `(gsk_demo_[0-9a-f]+)`", README))
    assert listed == {system.system_id: demo_key(SEED, system.system_id) for system in DEMO_SYSTEMS}


def test_the_two_commands_open_the_readme() -> None:
    first, second = examples()[:2]
    assert (first.name, second.name) == ("serve", "test")
    assert first.body == INSTALL + "uv run --frozen python server.py --demo"
    assert second.body == INSTALL + "uv run --frozen pytest"
    assert README.index(first.body) < README.index(second.body) < README.index("\n## ")


def test_every_command_and_query_is_an_example_the_walkthrough_checks() -> None:
    fences = re.findall(r"^```(\w+)$", README, re.M)
    named = examples()
    assert sum(lang in RUNNABLE for lang in fences) == len(named), (
        "every ```sh and ```graphql block is preceded by <!-- example: … -->"
    )
    names = [example.name for example in named]
    assert len(set(names)) == len(names)
    assert set(names) == {"serve", "test", *CHECKS}


def test_the_error_code_table_lists_every_code_the_platform_returns() -> None:
    table = README.split("## Error codes", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `([A-Z_]+)` \|", table, re.M)
    assert len(listed) == len(set(listed))
    assert set(listed) == errors.codes()


def test_leaving_out_the_slow_tests_as_the_readme_says() -> None:
    """The README's `-m "not slow"` keeps every other test (collected, not run here)."""
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "not slow", "--collect-only", "-q"],
        cwd=ROOT,
        env={"PATH": PATH, "PYTEST_ADDOPTS": "-p no:cacheprovider"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert collected.returncode == 0, collected.stdout + collected.stderr
    assert "test_the_readme_walkthrough" not in collected.stdout
    assert re.search(r"\d+/\d+ tests collected \(\d+ deselected\)", collected.stdout)


@pytest.mark.slow
def test_the_readme_walkthrough(tmp_path: Path) -> None:
    clone = _fresh_clone(tmp_path / "gov-share")
    walk = examples()
    serve = walk[0]
    with _serving(clone, serve.body.removeprefix(INSTALL)) as reader:
        for example in walk[2:]:
            CHECKS[example.name](reader, example)
    # `uv run` answers a SIGTERM with 143 whatever the server did, so read its log.
    log = reader.log.read_text()
    assert "Application shutdown complete." in log and '"level": "ERROR"' not in log, log


@dataclass
class Reader:
    """Someone following the README in their clone, with the demo running."""

    clone: Path
    port: int
    log: Path
    ports: dict[str, int] = field(default_factory=dict)
    """The README's ports beside the demo's (8001, …) and the free ones used instead."""
    others: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    """Servers the examples started beside the demo, by the README's port."""
    token: str | None = None
    """The last demo sign-on token a `demo-token` example printed."""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def shell(self, example: Example) -> list[subprocess.CompletedProcess[str]]:
        """Each command of a ```sh block, in order, in the clone; every one must succeed."""
        results = []
        for command in _commands(example.body.replace("127.0.0.1:8000", f"127.0.0.1:{self.port}")):
            result = self.run(command)
            assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
            results.append(result)
        return results

    def run(self, command: str) -> subprocess.CompletedProcess[str]:
        """One command in the clone, as a reader's shell runs it, whatever its status."""
        return subprocess.run(
            ["bash", "-c", command],
            cwd=self.clone,
            env=_readers_environment(),
            capture_output=True,
            text=True,
            timeout=600,
        )

    def query(
        self,
        example: Example,
        base: str | None = None,
        variables: dict[str, Any] | None = None,
        **overrides: str | None,
    ) -> dict[str, Any]:
        caller = overrides.get("caller", example.caller)
        purpose = overrides.get("purpose", example.purpose)
        headers = {"Accept": "application/graphql-response+json"}
        if caller == SIGNED_IN:
            assert self.token is not None, "a demo-token example comes first"
            headers["Authorization"] = f"Bearer {self.token}"
        elif caller is not None:
            headers["Authorization"] = f"Bearer {demo_key(SEED, caller)}"
        if purpose is not None:
            headers["X-Purpose"] = purpose
        response = httpx.post(
            f"{base or self.base}/graphql",
            json={"query": example.body, "variables": variables or {}},
            headers=headers,
            timeout=30,
        )
        body: dict[str, Any] = response.json()
        return body

    def record(self, request_id: str) -> sqlite3.Row:
        with contextlib.closing(sqlite3.connect(self.clone / "var" / "platform.db")) as store:
            store.row_factory = sqlite3.Row
            row = store.execute(
                "SELECT * FROM audit_records WHERE request_id = ?", (request_id,)
            ).fetchone()
        assert row is not None, "every request leaves its audit record"
        return row


def _fresh_clone(into: Path) -> Path:
    """The project as a clone has it: no `var/`, no caches; the environment `uv sync`
    made is shared, as the lock file is the same."""
    ignored = shutil.ignore_patterns(".git", ".venv", "var", "__pycache__", ".*_cache", "*.pyc")
    shutil.copytree(ROOT, into, ignore=ignored)
    (into / ".venv").symlink_to(ROOT / ".venv")
    return into


def _readers_environment() -> dict[str, str]:
    """A terminal's environment: no GOV_SHARE_* (the tests' own data directory included)."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("GOV_SHARE_", "PYTEST_", "VIRTUAL_ENV", "UV_"))
    }


def _commands(block: str) -> list[str]:
    """Commands as a shell reads them: continued lines joined, comment lines dropped."""
    joined = re.sub(r"\\\n\s*", "", block)
    return [
        line for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]


@contextlib.contextmanager
def _serving(clone: Path, command: str) -> Iterator[Reader]:
    port = free_port()
    reader = Reader(clone, port, clone.parent / "server.log")
    with reader.log.open("w") as sink:
        server = subprocess.Popen(
            ["bash", "-c", f"exec {command} --port {port}"],
            cwd=clone,
            env=_readers_environment(),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 180
            while server.poll() is None and time.monotonic() < deadline:
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(f"{reader.base}/readyz").status_code == 200:
                        break
                time.sleep(0.3)
            else:
                raise AssertionError("the demo did not start: " + reader.log.read_text())
            yield reader
        finally:
            for other in reader.others.values():
                _stop(other)
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)


# What each example is documented to do, asserted as the README words it.


def _vendor_check(reader: Reader, example: Example) -> None:
    [checked] = reader.shell(example)
    for package in ("graphiql@3.9.0", "react@18.3.1", "react-dom@18.3.1"):
        assert f"{package}: " in checked.stdout and "agree with" in checked.stdout


def _graphiql_headers(reader: Reader, example: Example) -> None:
    page = httpx.get(f"{reader.base}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    prefilled = re.search(r'data-headers="([^"]*)"', page.text)
    assert prefilled is not None, page.text
    assert json.loads(html.unescape(prefilled[1])) == json.loads(example.body)


def _codes(body: dict[str, Any]) -> dict[str, str]:
    return {e["extensions"]["field"]: e["extensions"]["code"] for e in body.get("errors", [])}


def _first_query(reader: Reader, example: Example) -> None:
    body = reader.query(example)
    assert _codes(body) == {
        "TaxRegistration.creditRating": "APPLICATION_REQUIRED",
        "TaxRegistration.annualTaxPaid": "NOT_SHARED",
    }
    nodes = [edge["node"] for edge in body["data"]["enterprises"]["edges"]]
    people = [node["legalRepresentative"] for node in nodes]
    assert all(p["name"] and re.fullmatch(r"\d{17}[\dX]", p["idNumber"]) for p in people)
    assert all(p["householdAddress"].endswith("号") for p in people), "clear, by a rule"
    assert all(re.fullmatch(r"1\d{2}\*{4}\d{4}", p["phone"]) for p in people), "masked"
    assert all(node["landParcels"] is not None for node in nodes)
    for caller, purpose in (
        ("marriage-registry", "work_reference"),
        ("planning-permits", "administrative_basis"),
        ("school-enrolment", "administrative_basis"),
    ):
        other = reader.query(example, caller=caller, purpose=purpose)
        denial = next(
            e
            for e in other["errors"]
            if e["extensions"]["field"] == "Enterprise.legalRepresentative"
        )
        assert denial["extensions"]["code"] == "APPLICATION_REQUIRED"
        assert denial["extensions"]["restsOn"] == "Enterprise.legalRepIdNumber"
        assert all(
            edge["node"]["legalRepresentative"] is None
            for edge in other["data"]["enterprises"]["edges"]
        )
    for caller in ("tax-admin", "registration"):
        granted = reader.query(example, caller=caller)
        assert "Enterprise.legalRepresentative" not in _codes(granted)
    unstated = reader.query(example, purpose=None)
    assert _codes(unstated)["Enterprise.legalRepresentative"] == "PURPOSE_REQUIRED"


def _first_curl(reader: Reader, example: Example) -> None:
    [curl] = reader.shell(example)
    body = json.loads(curl.stdout)
    assert _codes(body) == {"TaxRegistration.annualTaxPaid": "NOT_SHARED"}
    people = [edge["node"]["legalRepresentative"] for edge in body["data"]["enterprises"]["edges"]]
    assert len(people) == 2 and all("***" not in p["householdAddress"] for p in people)
    assert reader.record(body["extensions"]["requestId"])["operator"] == "张三"


def _persisted_documents(reader: Reader, example: Example) -> None:
    hashed, missed, registered, by_get, by_id, other = reader.shell(example)
    text = "query FirstEnterprise { enterprises(first: 1) { edges { node { name creditCode } } } }"
    assert hashed.stdout.split()[0] == hashlib.sha256(text.encode()).hexdigest()
    [error] = json.loads(missed.stdout)["errors"]
    assert error["message"] == "PersistedQueryNotFound"
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    served = json.loads(registered.stdout)
    assert "errors" not in served and len(served["data"]["enterprises"]["edges"]) == 1
    for hit in (by_get, by_id):
        body = json.loads(hit.stdout)
        assert body["data"] == served["data"], body
        record = reader.record(body["extensions"]["requestId"])
        assert record["caller_system"] == "planning-permits"
        assert record["operation_hash"] == hashlib.new("sm3", text.encode()).hexdigest()
        assert record["document_id"] == f"sha256:{hashlib.sha256(text.encode()).hexdigest()}"
    [refused] = json.loads(other.stdout)["errors"]
    assert refused["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


def _trusted_documents(reader: Reader, example: Example) -> None:
    (
        _,
        registered,
        listed,
        logging,
        _,
        unknown_sent,
        unknown,
        persisted_only,
        _,
        matched,
        required,
    ) = reader.shell(example)
    manifest = json.loads((reader.clone / "permits-manifest.json").read_text())
    [operation] = manifest["operations"]
    assert operation["id"] == hashlib.sha256(operation["body"].encode()).hexdigest()
    report = registered.stdout.splitlines()
    assert report[0] == "1 document registered for 11410581005000007K/planning-permits"
    assert report[1].split() == ["operation", "purpose", "item", "access", "code"]
    for purpose in ("administrative_basis", "work_reference"):
        row = ["PermitHolders", purpose, "enterprise.legalRepIdNumber", "denied"]
        assert [*row, "APPLICATION_REQUIRED"] in [line.split() for line in report[2:]]
    assert "planning-permits: mode open" in listed.stdout
    permits = [f"sha256:{operation['id']}", "PermitHolders", "query"]
    bound = "administrative_basis,work_reference"
    assert [*permits, bound, "-"] in [line.split() for line in listed.stdout.splitlines()]
    assert logging.stdout.strip().endswith("mode log-unknown")
    assert "errors" not in json.loads(unknown_sent.stdout)
    [counted] = unknown.stdout.splitlines()[1:]
    assert counted.split()[0] == "Names" and counted.split()[2] == "1"
    assert persisted_only.stdout.strip().endswith("mode persisted-only")
    served = json.loads(matched.stdout)
    assert len(served["data"]["enterprises"]["edges"]) == 2
    record = reader.record(served["extensions"]["requestId"])
    assert record["document_id"] == f"sha256:{operation['id']}"
    [error] = json.loads(required.stdout)["errors"]
    assert error["extensions"]["code"] == "PERSISTED_QUERY_REQUIRED"


def _batch_download(reader: Reader, example: Example) -> None:
    *_, refused = reader.shell(example)
    table = list(csv.reader(io.StringIO((reader.clone / "enterprises.csv").read_text())))
    assert table[0] == ["creditCode", "name", "contactPhone", "cursor"] and len(table) > 1001
    assert all("****" in row[2] for row in table[1:] if row[2])
    whole, rest = (
        [json.loads(line)["node"] for line in (reader.clone / name).read_text().splitlines()]
        for name in ("enterprises.jsonl", "rest.jsonl")
    )
    assert [row["creditCode"] for row in whole] == [row[0] for row in table[1:]]
    assert rest == whole[10:]
    assert json.loads(refused.stdout)["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def _register_documents(reader: Reader, example: Example) -> None:
    """The walkthrough's manifest, as `$manifest`, by the signed-in policy admin."""
    variables = {"manifest": (reader.clone / "permits-manifest.json").read_text()}
    [error] = reader.query(example, variables=variables, caller="marriage-registry")["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    body = reader.query(example, variables=variables)
    assert "errors" not in body, body
    registered = body["data"]["registerDocuments"]
    assert registered["system"] == "11410581005000007K/planning-permits"
    [operation] = registered["operations"]
    assert operation["name"] == "PermitHolders"
    denied = {"resource": "enterprise", "item": "legalRepIdNumber", "access": "denied"}
    reports = {report["purpose"]: report["withheld"] for report in operation["report"]}
    assert reports.keys() == {"administrative_basis", "work_reference"}, reports
    assert all([{**denied, "code": "APPLICATION_REQUIRED"}] == w for w in reports.values())


def _apply(reader: Reader, example: Example) -> None:
    answer = reader.query(example)["data"]["applyForAccess"]
    assert answer["state"] == "applied" and answer["provider"] == "国家税务总局林州市税务局"
    assert answer["dueAt"].endswith(("16:00:00+00:00", "16:00:00Z")), "24:00 Asia/Shanghai"
    assert [step["step"] for step in answer["steps"]] == ["apply"]
    [duplicate] = reader.query(example)["errors"]
    assert duplicate["extensions"] == {
        "code": "APPLICATION_DUPLICATE",
        "openApplication": answer["id"],
    }


def _my_applications(reader: Reader, example: Example) -> None:
    [mine] = reader.query(example)["data"]["myApplications"]
    assert (mine["state"], mine["resource"], mine["fields"]) == (
        "applied",
        "tax_registration",
        ["creditRating"],
    )


def _pending_work(reader: Reader, example: Example) -> None:
    work = reader.query(example)["data"]["pendingWork"]
    assert work == {"mine": [], "toAnswer": [], "toDecide": [], "overdue": []}, "all answered"


def _notifications(reader: Reader, example: Example) -> None:
    every, dead = reader.shell(example)
    assert every.stdout == dead.stdout == "no deliveries\n", "the demo has no webhooks"


def _figures(reader: Reader, example: Example) -> None:
    providers, consumers = reader.shell(example)
    [taxation] = list(csv.DictReader(io.StringIO(providers.stdout)))
    assert (taxation["provider_code"], taxation["applications"], taxation["answered"]) == (
        "11410581005000005D",
        "2",
        "2",
    ), "the approval and the refusal"
    assert consumers.stdout.splitlines() == [
        "consumer_department,approvals,used,never_used",
        "11410581005000006G,1,1,0",
        "11410581005000007K,1,0,1",
    ], consumers.stdout


def _demo_token(reader: Reader, example: Example) -> None:
    [printed] = reader.shell(example)
    reader.token = printed.stdout.strip()
    assert re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+", reader.token), printed.stdout


def _refused_with_a_key(reader: Reader, example: Example, caller: str) -> None:
    """What the person's token does, a system's key may not: FORBIDDEN."""
    [error] = reader.query(example, caller=caller)["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"


def _approve(reader: Reader, example: Example) -> None:
    _refused_with_a_key(reader, example, "tax-admin")
    approved = reader.query(example)["data"]["approveApplication"]
    assert approved["state"] == "approved_narrower", "72 hours, not the validity asked for"
    assert approved["grant"] is not None and approved["grantedUntil"]
    assert approved["steps"][-1]["step"] == "approve"
    assert approved["steps"][-1]["person"] == "审批员 王"
    assert approved["steps"][-1]["department"] == "11410581005000005D"


def _approved_query(reader: Reader, example: Example) -> None:
    body = reader.query(example)
    assert "errors" not in body, body
    ratings = [
        edge["node"]["taxRegistration"]["creditRating"]
        for edge in body["data"]["enterprises"]["edges"]
        if edge["node"]["taxRegistration"] is not None
    ]
    assert ratings and all(ratings), body


def _apply_planning(reader: Reader, example: Example) -> None:
    assert reader.query(example)["data"]["applyForAccess"] == {"id": 2, "state": "applied"}


def _refuse(reader: Reader, example: Example) -> None:
    _refused_with_a_key(reader, example, "tax-admin")
    refused = reader.query(example)["data"]["refuseApplication"]
    assert (refused["id"], refused["state"]) == (2, "refused") and refused["negotiation"]


def _escalate(reader: Reader, example: Example) -> None:
    escalated = reader.query(example)["data"]["escalateApplication"]
    assert escalated == {"id": 2, "state": "escalated"}


def _decide(reader: Reader, example: Example) -> None:
    _refused_with_a_key(reader, example, "coordination")
    decided = reader.query(example)["data"]["decideEscalation"]
    assert decided["state"] == "approved_by_office" and decided["grant"] is not None
    assert decided["steps"][-1] == {
        "step": "decide",
        "person": "协调员 赵",
        "department": "114105810050000993",
        "reason": "协调决定：准予，限规划许可审查",
    }


def _filters(reader: Reader, example: Example) -> None:
    body = reader.query(example)
    assert "errors" not in body, body
    listed = body["data"]["enterprises"]
    capitals = [float(edge["node"]["registeredCapital"]) for edge in listed["edges"]]
    assert listed["totalCount"] >= len(capitals) > 0
    assert capitals == sorted(capitals, reverse=True) and min(capitals) >= 500


def _catalog_search(reader: Reader, example: Example) -> None:
    def address(purpose: str) -> dict[str, Any]:
        found = reader.query(example, purpose=purpose)["data"]["catalog"]["search"]
        return next(f for f in found if f["item"]["graphqlField"] == "Person.householdAddress")

    clear = address("administrative_basis")["access"]
    assert (clear["how"], clear["outcome"]) == ("query_directly", "clear")
    masked = address("work_reference")["access"]
    assert (masked["how"], masked["outcome"]) == ("query_directly", "masked")


def _my_access(reader: Reader, example: Example) -> None:
    answers = {a["item"]: a for a in reader.query(example)["data"]["myAccess"]}
    assert (answers["creditCode"]["access"], answers["creditCode"]["basis"]) == (
        "clear",
        "catalog:unconditional",
    )
    denied = answers["legalRepIdNumber"]
    assert (denied["access"], denied["code"]) == ("denied", "APPLICATION_REQUIRED")
    assert denied["application"]["fields"] == ["legalRepIdNumber"]
    assert denied["application"]["provider"] == "林州市市场监督管理局"


def _masked_persons(reader: Reader, example: Example) -> None:
    people = [e["node"] for e in reader.query(example)["data"]["persons"]["edges"]]
    assert all(p["householdAddress"].endswith(f"{p['township']}***") for p in people)
    assert all(re.fullmatch(r"1\d{2}\*{4}\d{4}", p["phone"]) for p in people)
    registry = reader.query(example, caller="marriage-registry", purpose="administrative_basis")
    people = [e["node"] for e in registry["data"]["persons"]["edges"]]
    assert all(not p["householdAddress"].endswith("***") for p in people)
    assert all("****" in p["phone"] for p in people)


def _grants(reader: Reader, example: Example) -> None:
    granted, listed, revoked, history = reader.shell(example)
    assert granted.stdout.strip() == "grant 1 recorded"
    assert "school-enrolment" in listed.stdout and "scope=township=township" in listed.stdout
    assert revoked.stdout.strip() == "grant 1 revoked"
    made, ended = history.stdout.splitlines()[1:]
    assert re.search(r"\+08:00\s+1\s+granted\s+gs-admin-07\s+公安局 approved", made), made
    assert re.search(r"\s1\s+revoked\s+gs-admin-07\s+enrolment closed\s", ended), ended


def _policy_check(reader: Reader, example: Example) -> None:
    [checked] = reader.shell(example)
    assert checked.stdout == "policies: rules and grants agree with the catalog\n"


def _policy_explain(reader: Reader, example: Example) -> None:
    [explained] = reader.shell(example)
    lines = explained.stdout.splitlines()
    assert lines[1] == "outcome:  masked"
    at = lines.index(
        "  public_security.csv:3  p, 11410581005000006G/marriage-registry, "
        "person.householdAddress, read_clear, administrative_basis"
    )
    assert lines[at - 1] == "almost matched:"
    assert lines[at + 1].strip() == "for administrative_basis, not work_reference"


def _policy_test(reader: Reader, example: Example) -> None:
    [tested] = reader.shell(example)
    assert re.fullmatch(r"\d+ files, (\d+) cases: \1 passed\n", tested.stdout), tested.stdout


def _policy_diff(reader: Reader, example: Example) -> None:
    *_, compared = reader.shell(example)
    [header, lost] = compared.stdout.splitlines()
    assert header.split() == ["consumer", "item", "purpose", "action", "before", "after", "change"]
    assert lost.split() == [
        "11410581005000006G/marriage-registry",
        "person.householdAddress",
        "administrative_basis",
        "read",
        "clear",
        "masked",
        "loses",
    ]


def _policy_replay(reader: Reader, example: Example) -> None:
    [replayed] = reader.shell(example)
    summary, *rest = replayed.stdout.splitlines()
    assert re.fullmatch(
        r"\d+ requests, \d+ item decisions replayed; [1-9]\d* would change", summary
    )
    changed = [line.split("  ") for line in rest if "marriage-registry" in line]
    assert changed and all(
        [cell.strip() for cell in line if cell.strip()][2:]
        == [
            "person.householdAddress",
            "administrative_basis",
            "clear (public_security.csv:3)",
            "masked (catalog:masked_for_all_departments)",
        ]
        for line in changed
    ), rest


def _verification(reader: Reader, example: Example) -> None:
    body = reader.query(example)
    assert body["data"] == {"spouse": True, "same": True, "other": False}, body


def _health(reader: Reader, example: Example) -> None:
    alive, ready, metrics = reader.shell(example)
    assert json.loads(alive.stdout) == {"status": "alive"}
    body = json.loads(ready.stdout)
    # From the last days of a year whose successor's schedule nobody has published yet,
    # a real server says so (README, Applications): degraded for that alone.
    calendar = [p for p in body["problems"] if p.startswith("the working-day calendar ")]
    expected = "degraded" if calendar else "ready"
    assert body["status"] == expected and body["problems"] == calendar
    assert body["policy"]["reload"] == "ok"
    assert body["announcements"] == "off", "the demo runs without Redis"
    assert body["rate_limits"] == "local", "each server counts alone"
    assert 'gov_share_rate_limited_requests_total{limit="system"} 0.0' in metrics.stdout
    assert "gov_share_policy_reload_ok 1.0" in metrics.stdout.splitlines()
    assert f'policy_version="{body["policy"]["version"]}"' in metrics.stdout
    for named in (
        "# TYPE gov_share_requests_total counter",
        "# TYPE gov_share_request_errors_total counter",
        'gov_share_field_decisions_total{decision="masked"}',
        "gov_share_audit_write_lag_seconds_count",
        "gov_share_audit_batch_records_count",
    ):
        assert named in metrics.stdout, named


def _demo_file_drop(reader: Reader, example: Example) -> None:
    body = reader.query(example)
    assert "errors" not in body, body
    listed = body["data"]["insuranceContributions"]
    assert listed["totalCount"] > 100 and len(listed["edges"]) == 3
    for edge in listed["edges"]:
        node = edge["node"]
        assert re.fullmatch(r"\d+\.\d\d", node["contributionBase"]), "clear, by a rule"
        assert node["person"]["name"] and node["employer"]["name"]
    folder = reader.clone / "var" / "drops" / "human_resources" / "insurance_contribution"
    [delivered] = (folder / "processed").glob("*_insurance_contribution.csv")
    header = delivered.read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.startswith("缴费记录编号,") and "月工资收入" not in header


def _add_sql_source(reader: Reader, example: Example) -> None:
    """The commands, then the catalog file the README says to save."""
    reader.shell(example)
    after = README.split(example.body, 1)[1]
    saved = re.search(r"saved as `([^`]+)`:\n\n```yaml\n(.*?)\n```", after, re.S)
    assert saved is not None
    (reader.clone / saved[1]).write_text(saved[2] + "\n", encoding="utf-8")


BESIDE = re.compile(r"\b(800[1-9])\b")
"""The ports the README's examples serve on beside the demo's 8000: each gets a free one."""


def _beside(reader: Reader, text: str) -> str:
    return BESIDE.sub(lambda m: str(reader.ports.setdefault(m[1], free_port())), text)


def _start_beside(
    reader: Reader, example: Example, prepare: Callable[[], None] | None = None
) -> None:
    """Each command but the last as `shell` runs it; then what `prepare` does (a file
    the README says to edit); then the last command, a server, left running (in another
    terminal, for a reader) until its port answers."""
    *commands, serve = _commands(example.body)
    for command in commands:
        result = reader.run(_beside(reader, command))
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    if prepare is not None:
        prepare()
    listens = re.search(r"(?:--port |http\.server )(800\d)\b", serve)
    assert listens is not None, serve
    log = reader.clone.parent / f"{example.name}.log"
    with log.open("w") as sink:
        server = subprocess.Popen(
            ["bash", "-c", _beside(reader, serve)],
            cwd=reader.clone,
            env=_readers_environment(),
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    reader.others[listens[1]] = server
    base = f"http://127.0.0.1:{reader.ports[listens[1]]}"
    deadline = time.monotonic() + 180
    while server.poll() is None and time.monotonic() < deadline:
        try:
            ready = httpx.get(f"{base}/readyz").status_code == 200
        except httpx.TransportError:
            ready = False
        else:
            ready = ready or "http.server" in serve  # a file server has no /readyz
        if ready:
            return
        time.sleep(0.3)
    raise AssertionError(f"{serve} did not start: " + log.read_text())


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the command's process group (bash and the server it started)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=60)


def _stop_beside(reader: Reader, *ports: str) -> None:
    for port in ports:
        _stop(reader.others.pop(port))


def _edited(
    reader: Reader, example: Example, path: str, block: str, form: str
) -> Callable[[], None]:
    """The README's yaml block after `example` (the `block` to add to the school
    resource), applied to the catalog file at `path` as a reader edits it."""
    after = README.split(example.body, 1)[1]
    text = re.search(r"```yaml\n(.*?)\n```", after, re.S)
    assert text is not None

    def edit() -> None:
        file = reader.clone / path
        department = yaml.safe_load(file.read_text(encoding="utf-8"))
        [school] = department["resources"]
        school[block] = yaml.safe_load(textwrap.dedent(text[1]))[block]
        school["format"] = {"format_class": "service_interface", "format_type": form}
        file.write_text(yaml.safe_dump(department, allow_unicode=True, sort_keys=False), "utf-8")

    return edit


def _schools(reader: Reader, example: Example, port: str) -> list[tuple[Any, ...]]:
    body = reader.query(example, f"http://127.0.0.1:{reader.ports[port]}")
    assert "errors" not in body, body
    return [tuple(edge["node"].values()) for edge in body["data"]["schools"]["edges"]]


def _held_schools(reader: Reader) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(reader.clone / "county" / "education.db")) as db:
        return db.execute("SELECT * FROM school ORDER BY school_code").fetchall()


def _pupils_withheld(reader: Reader, example: Example, port: str) -> None:
    other = reader.query(example, f"http://127.0.0.1:{reader.ports[port]}", caller="registration")
    assert _codes(other) == {"School.pupils": "APPLICATION_REQUIRED"}, other
    assert "林州市教育局" in other["errors"][0]["message"]
    assert all(e["node"]["pupils"] is None for e in other["data"]["schools"]["edges"])


def _serve_sql_source(reader: Reader, example: Example) -> None:
    _start_beside(reader, example)


def _query_sql_source(reader: Reader, example: Example) -> None:
    assert _schools(reader, example, "8001") == _held_schools(reader)
    _pupils_withheld(reader, example, "8001")
    _stop_beside(reader, "8001")


def _rest_api(reader: Reader, example: Example) -> None:
    _start_beside(reader, example)


def _serve_rest_source(reader: Reader, example: Example) -> None:
    rest_api = next(e for e in examples() if e.name == "rest-api")
    edit = _edited(reader, rest_api, "county/rest-catalog/education.yaml", "api", "REST/JSON")
    _start_beside(reader, example, edit)


def _query_rest_source(reader: Reader, example: Example) -> None:
    served = (reader.clone / "county" / "api" / "schools.json").read_text(encoding="utf-8")
    held = [tuple(school.values()) for school in json.loads(served)["data"]]
    assert _schools(reader, example, "8001") == held == _held_schools(reader)
    _pupils_withheld(reader, example, "8001")
    filtered = example.body.replace("first: 10", 'first: 10, where: {township: {_eq: "横水镇"}}')
    refused = reader.query(
        Example("filtered", "graphql", filtered, example.caller, example.purpose),
        f"http://127.0.0.1:{reader.ports['8001']}",
    )
    assert refused["errors"][0]["extensions"]["code"] == "PUSHDOWN_REFUSED", refused
    _stop_beside(reader, "8001", "8002")


def _serve_upstream(reader: Reader, example: Example) -> None:
    _start_beside(reader, example)
    assert (reader.clone / "county" / "link.key").read_text().startswith("gsk_")


def _serve_remote_source(reader: Reader, example: Example) -> None:
    path, form = "county/remote-catalog/education.yaml", "GraphQL"
    upstream = next(e for e in examples() if e.name == "serve-upstream")
    _start_beside(reader, example, _edited(reader, upstream, path, "remote", form))


def _query_remote_source(reader: Reader, example: Example) -> None:
    assert _schools(reader, example, "8003") == _held_schools(reader)
    _pupils_withheld(reader, example, "8003")
    with contextlib.closing(sqlite3.connect(reader.clone / "county" / "var" / "platform.db")) as db:
        calls = db.execute(
            "SELECT caller_department, purpose FROM audit_records WHERE caller_system = ?",
            ("school-enrolment@city-platform",),
        ).fetchall()
    assert calls and set(calls) == {("11410581005000008N", "work_reference")}
    _stop_beside(reader, "8003", "8001")


def _file_drops(reader: Reader, example: Example) -> None:
    _, loaded, status = reader.shell(example)
    assert re.fullmatch(
        r"loaded 2 records of insurance_contribution from 2026-11\.csv \(SM3 [0-9a-f]{16}…\) "
        r"at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\n",
        loaded.stdout,
    ), loaded.stdout
    resource, _, count, name, digest = status.stdout.strip().split("\t")
    assert (resource, count, name) == ("insurance_contribution", "2 records", "2026-11.csv")
    assert (
        digest
        == "SM3 " + hashlib.new("sm3", (reader.clone / "2026-11.csv").read_bytes()).hexdigest()
    )
    staging = reader.clone / "var" / "staging" / "human_resources.db"
    with contextlib.closing(sqlite3.connect(staging)) as database:
        kept = database.execute(
            "SELECT record_number, person_name, contribution_base FROM insurance_contribution "
            "ORDER BY record_number"
        ).fetchall()
    assert kept == [("SB202611000001", "王芳", 5200), ("SB202611000002", "李强", 4800)]
    # The refusal the README shows, for a file whose second record's base is 五千.
    good = (reader.clone / "2026-11.csv").read_text(encoding="utf-8").splitlines()
    header, first, second = good
    bad = second.replace(",4800.00,", ",五千,")
    (reader.clone / "2026-12.csv").write_text("\n".join([header, first, bad]) + "\n", "utf-8")
    command = _commands(example.body)[1].replace("2026-11.csv", "2026-12.csv")
    refused = reader.run(command)
    shown = README.split("### Adding a file-drop source")[1].split("```text\n")[2].split("\n```")[0]
    assert (refused.returncode, refused.stderr.strip()) == (1, shown)
    with contextlib.closing(sqlite3.connect(staging)) as database:
        assert database.execute("SELECT count(*) FROM insurance_contribution").fetchone() == (2,)


def _keys(reader: Reader, example: Example) -> None:
    [made] = reader.shell(example)
    exported = re.findall(r"^export (GOV_SHARE_[A-Z_]+)=", made.stdout, re.M)
    assert set(exported) == {
        "GOV_SHARE_AUDIT_KEY_ID",
        "GOV_SHARE_AUDIT_KEYS",
        "GOV_SHARE_AUDIT_SIGNING_KEY",
        "GOV_SHARE_CURSOR_KEY",
    }


def _api_keys(reader: Reader, example: Example) -> None:
    registered, listed, rotated, revoked = reader.shell(example)
    first, second = registered.stdout.strip(), rotated.stdout.strip().splitlines()[-1]
    assert first.startswith("gsk_") and second.startswith("gsk_") and first != second
    assert re.search(r"^7\s.*archive", listed.stdout, re.M), listed.stdout
    assert revoked.returncode == 0
    stored = b"".join(path.read_bytes() for path in (reader.clone / "var").glob("platform.db*"))
    assert first.encode() not in stored and hash_key(first).encode() in stored, "stored hashed"

    def status(key: str) -> int:
        headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
        query = {"query": "{ catalog { version } }"}
        return httpx.post(f"{reader.base}/graphql", json=query, headers=headers).status_code

    assert status(first) == 200, "key 7 works through the overlap"
    assert status(second) == 401, "key 8, revoked"


def _audit(reader: Reader, example: Example) -> None:
    _, verified, retained, exports = reader.shell(example)
    assert (reader.clone / "auditors.pub").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert "intact" in verified.stdout, verified.stdout
    assert "nothing is older than 183 days" in retained.stdout
    assert exports.stdout.strip(), "it says what it checked, or that there is nothing yet"


def _audit_search(reader: Reader, example: Example) -> None:
    found, exported, _ = reader.shell(example)
    assert "tax-admin" in found.stdout and "data_verification" in found.stdout, found.stdout
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert rows and {(row["caller_system"], row["purpose"]) for row in rows} == {
        ("tax-admin", "data_verification")
    }, exported.stdout
    page = (reader.clone / "subject-report.html").read_text(encoding="utf-8")
    assert "数据主体访问报告" in page and "国家税务总局林州市税务局" in page, page
    assert "410500193609200799" not in page and "数据校核" in page


def _audit_graphql(reader: Reader, example: Example) -> None:
    _refused_with_a_key(reader, example, "marriage-registry")
    body = reader.query(example)
    assert "errors" not in body, body
    report, records = body["data"]["subjectAccessReport"], body["data"]["auditRecords"]
    assert report["total"] >= 1 and report["groups"], report
    assert records["edges"] and all(
        edge["node"]["callerSystem"] == "tax-admin" for edge in records["edges"]
    ), records


def _audit_signals_graphql(reader: Reader, example: Example) -> None:
    _refused_with_a_key(reader, example, "marriage-registry")
    body = reader.query(example)
    assert "errors" not in body, body
    kinds = {"volume", "off_hours", "reference", "denied", "grant_end", "verification"}
    assert all(signal["kind"] in kinds for signal in body["data"]["misuseSignals"]), body


def _audit_signals(reader: Reader, example: Example) -> None:
    signals, found = reader.shell(example)
    assert re.search(
        r"^denied  11410581005000006G/marriage-registry: \d+ requests refused", signals.stdout, re.M
    ), signals.stdout
    rows = list(csv.DictReader(io.StringIO(found.stdout)))
    assert rows and {(row["caller_system"], row["outcome"]) for row in rows} == {
        ("marriage-registry", "forbidden")
    }, found.stdout
    assert rows[0]["request_id"] in signals.stdout, signals.stdout  # the newest, listed


def _inventory(reader: Reader, example: Example) -> None:
    table, printed = reader.shell(example)
    header, *rows = table.stdout.splitlines()
    assert header.startswith("source ") and header.endswith("retire?"), table.stdout
    listed = json.loads(printed.stdout)
    assert [row.split()[0] for row in rows] == [found["source"] for found in listed]
    assert any(found["callers_30_days"] >= 1 for found in listed), printed.stdout
    assert all(found["retirement_candidate"] == bool(found["retire_because"]) for found in listed)


def _benchmarks(reader: Reader, example: Example) -> None:
    run, audit_cost, propagation, decisions, persisted, edge = reader.shell(example)
    assert "checked N=100: (a)-(f) return identical data" in run.stdout, run.stdout
    assert "chain verified intact" in audit_cost.stdout, audit_cost.stdout
    measured = re.findall(
        r"^(with Redis|polling only) +(rule edit|grant) +\d+ ", propagation.stdout, re.M
    )
    assert ("polling only", "grant") in measured, propagation.stdout
    for measure in ("cold, the rule index", "one grant revoked", "N=100  cold"):
        assert measure in decisions.stdout, decisions.stdout
    assert "checked N=100: persisted, text, miss return identical data" in persisted.stdout
    assert "than the text call in every cell: " in persisted.stdout
    assert re.search(r"^  100   16  text .* 1\.000 ", persisted.stdout, re.M), persisted.stdout
    assert "checked N=1: (c) and (d) return identical data" in edge.stdout, edge.stdout
    assert re.search(r"edge = d - c - h: [\d.-]+ CPU ms/req", edge.stdout), edge.stdout


def _workers(reader: Reader, example: Example) -> None:
    """Two workers beside the walkthrough's server, on the same data directory: both
    start (the store and demo keys made once before them), both answer, and both stop
    cleanly on SIGTERM."""
    [command] = _commands(example.body)
    port = free_port()
    log = reader.clone.parent / "workers.log"
    with log.open("w") as sink:
        server = subprocess.Popen(
            ["bash", "-c", f"exec {command} --port {port}"],
            cwd=reader.clone,
            env=_readers_environment(),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 120
            while log.read_text().count("Application startup complete.") < 2:
                assert server.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.3)
            headers = {
                "Authorization": f"Bearer {demo_key(SEED, 'marriage-registry')}",
                "X-Purpose": "administrative_basis",
            }
            for _ in range(8):  # a connection each: the kernel spreads them
                response = httpx.post(
                    f"http://127.0.0.1:{port}/graphql",
                    json={"query": "{ enterprises(first: 1) { edges { node { name } } } }"},
                    headers=headers,
                    timeout=30,
                )
                assert response.status_code == 200 and "errors" not in response.json()
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
    text = log.read_text()
    assert text.count("Application shutdown complete.") == 2 and "workers stopped" in text, text
    assert '"level": "ERROR"' not in text and "Traceback" not in text, text


CHECKS: dict[str, Callable[[Reader, Example], None]] = {
    "vendor-check": _vendor_check,
    "graphiql-headers": _graphiql_headers,
    "first-query": _first_query,
    "first-curl": _first_curl,
    "filters": _filters,
    "catalog-search": _catalog_search,
    "my-access": _my_access,
    "masked-persons": _masked_persons,
    "grants": _grants,
    "apply": _apply,
    "my-applications": _my_applications,
    "approver-token": _demo_token,
    "approve": _approve,
    "approved-query": _approved_query,
    "apply-planning": _apply_planning,
    "refuse": _refuse,
    "escalate": _escalate,
    "office-token": _demo_token,
    "decide": _decide,
    "figures": _figures,
    "notifications": _notifications,
    "pending-work": _pending_work,
    "policy-check": _policy_check,
    "policy-explain": _policy_explain,
    "policy-test": _policy_test,
    "policy-diff": _policy_diff,
    "policy-replay": _policy_replay,
    "verification": _verification,
    "persisted-documents": _persisted_documents,
    "trusted-documents": _trusted_documents,
    "batch-download": _batch_download,
    "admin-token": _demo_token,
    "register-documents": _register_documents,
    "add-sql-source": _add_sql_source,
    "serve-sql-source": _serve_sql_source,
    "query-sql-source": _query_sql_source,
    "rest-api": _rest_api,
    "serve-rest-source": _serve_rest_source,
    "query-rest-source": _query_rest_source,
    "serve-upstream": _serve_upstream,
    "serve-remote-source": _serve_remote_source,
    "query-remote-source": _query_remote_source,
    "demo-file-drop": _demo_file_drop,
    "file-drops": _file_drops,
    "health": _health,
    "keys": _keys,
    "api-keys": _api_keys,
    "audit": _audit,
    "audit-search": _audit_search,
    "auditor-token": _demo_token,
    "audit-graphql": _audit_graphql,
    "audit-signals": _audit_signals,
    "audit-signals-graphql": _audit_signals_graphql,
    "workers": _workers,
    "inventory": _inventory,
    "benchmarks": _benchmarks,
}
