"""API keys: how they are made, hashed and, in demo mode, derived from the seed; and
what a system must be to hold one."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, ValidationError

# A system id as rule files and grants name it after the department code
# (policies/rules.py: `<department code>/<system id>`), and as the store column holds it.
SYSTEM_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")


@dataclass(frozen=True)
class DemoSystem:
    department_code: str
    department_name: str
    system_id: str
    system_name: str
    attributes: tuple[tuple[str, str], ...] = ()


DEMO_SYSTEMS = (
    DemoSystem("11410581005000006G", "林州市民政局", "marriage-registry", "婚姻登记系统"),
    DemoSystem(
        "11410581005000007K", "林州市住房和城乡建设局", "planning-permits", "规划许可审批系统"
    ),
    DemoSystem("11410581005000005D", "国家税务总局林州市税务局", "tax-admin", "税收征管系统"),
    DemoSystem("114105810050000024", "林州市市场监督管理局", "registration", "市场主体登记系统"),
    # Enrolment checks the household registration of children in its own township.
    DemoSystem(
        "11410581005000008N",
        "林州市教育局",
        "school-enrolment",
        "义务教育招生入学系统",
        (("township", "开元街道"),),
    ),
    # The city Administrative Service Center runs the platform: its coordination office
    # decides escalations and its auditors read the log (the demo sign-on's people).
    DemoSystem("114105810050000993", "林州市行政服务中心", "coordination", "共享协调系统"),
)


def hash_key(key: str) -> str:
    """Keys are 256-bit random, so one SM3 round is enough: nothing to brute-force."""
    return hashlib.new("sm3", key.encode()).hexdigest()


def new_key() -> str:
    return "gsk_" + secrets.token_urlsafe(32)


def demo_key(seed: int, system_id: str) -> str:
    digest = hashlib.new("sm3", f"gov-share-demo-key:{seed}:{system_id}".encode()).hexdigest()
    return f"gsk_demo_{digest[:32]}"


def registration_problems(
    department_code: str,
    department_name: str,
    system_id: str,
    system_name: str,
    catalog_names: Mapping[str, str],
) -> list[str]:
    """Why a system may not be registered as given, one line each (none: it may).

    The department code is a unified social credit code (GB 32100, check digit and
    all), written as the catalog writes it; a department the catalog has must be named
    as the catalog names it: a key's department is what every decision is made for."""
    problems = []
    try:
        valid = uscc.validate(department_code) == department_code
    except InvalidChecksum:
        problems.append(
            f"department code {department_code}: the check digit of this unified social credit "
            "code (GB 32100) does not match"
        )
        valid = True
    except ValidationError:
        valid = False
    if not valid:
        problems.append(
            f"department code {department_code!r} is not a unified social credit code (GB 32100): "
            "18 characters, digits and upper-case letters, e.g. 11410581005000006G"
        )
    known = catalog_names.get(department_code)
    if known is not None and department_name != known:
        problems.append(
            f"department name {department_name!r} disagrees with the catalog, which names "
            f"{department_code} {known!r}"
        )
    if not department_name.strip():
        problems.append("the department name is empty")
    if not SYSTEM_ID.fullmatch(system_id):
        problems.append(
            f"system id {system_id!r}: a system id is lower-case letters, digits and hyphens, "
            "starting with a letter or digit, at most 100 characters (e.g. marriage-registry)"
        )
    if not system_name.strip():
        problems.append("the system name is empty")
    return problems
