"""API keys: how they are made, hashed and, in demo mode, derived from the seed."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass


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
)


def hash_key(key: str) -> str:
    """Keys are 256-bit random, so one SM3 round is enough: nothing to brute-force."""
    return hashlib.new("sm3", key.encode()).hexdigest()


def new_key() -> str:
    return "gsk_" + secrets.token_urlsafe(32)


def demo_key(seed: int, system_id: str) -> str:
    digest = hashlib.new("sm3", f"gov-share-demo-key:{seed}:{system_id}".encode()).hexdigest()
    return f"gsk_demo_{digest[:32]}"
