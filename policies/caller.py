"""Who is asking, and why: the two things every decision is made for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

PUBLIC_ROLE = "role:public"


class Purpose(StrEnum):
    """The usage purposes of Art. 7, declared with every request."""

    ADMINISTRATIVE_BASIS = "administrative_basis"
    WORK_REFERENCE = "work_reference"
    DATA_VERIFICATION = "data_verification"
    BUSINESS_COLLABORATION = "business_collaboration"


class Role(StrEnum):
    """What a person signed in through the city's single sign-on may do beyond asking for
    data (a person with none of these is a plain user). Recorded and carried by the
    caller; `policy_admin` is checked by the policy admins' operations (`web/admin.py`),
    `provider_approver` and `coordination_office` by the applications'
    (`policies/application_access.py`), `auditor` by the auditors' tools."""

    POLICY_ADMIN = "policy_admin"
    PROVIDER_APPROVER = "provider_approver"
    COORDINATION_OFFICE = "coordination_office"
    AUDITOR = "auditor"


@dataclass(frozen=True)
class Caller:
    """A department system, or the anonymous public (Art. 20) when `department` is None.

    The operator is the person the system says is operating it: recorded as asserted,
    never verified here. The person is the one a sign-on token names, verified: set
    only when the system acts for someone signed in (`auth.tokens`).
    """

    department: str | None = None
    department_name: str | None = None
    system: str | None = None
    operator: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()
    """What grant scopes compare rows with (township, industry), from the API key."""
    credential: str | None = None
    """A short id of the API key presented (from its hash): what a cursor is bound to,
    since two keys of one system may carry different attributes."""
    person: str | None = None
    roles: frozenset[Role] = frozenset()

    @property
    def is_public(self) -> bool:
        return self.department is None

    @property
    def subject(self) -> str:
        """Who the sharing model asks about: the department, or the public role."""
        return self.department or PUBLIC_ROLE

    @property
    def attribute_values(self) -> Mapping[str, str]:
        return dict(self.attributes)

    @property
    def system_subject(self) -> str:
        return f"{self.department}/{self.system}"


PUBLIC = Caller()
