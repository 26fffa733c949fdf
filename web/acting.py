"""A peer platform acting here for its own caller: the province's platform, or another
city's gov-share, reading this platform's resources for a department system of its own.

The peer calls with its own API key (the link, registered here like any department
system) and names the caller it acts for in `X-Acting-Department` (a unified social
credit code, or `public`), `X-Acting-System` and, for a person signed on there,
`X-Acting-Person`; `X-Purpose`, `X-Purpose-Reference` and `X-Operator` are the
caller's own, forwarded. Only a key listed in `GOV_SHARE_PEER_PLATFORMS` may do so,
and only for the departments listed for it: any other key sending these headers is
refused (UNAUTHENTICATED), never served as the key's own system. Every decision here
is then the acting caller's — its department's rules and grants — and the audit
record names that department, the system as `<system>@<peer system>` (which platform
vouches for it) and the person, so a system of the peer's is never taken for one of
this platform's own. The peer vouches for its system, its operator and its person; it
cannot lend its caller anything of this platform's: no scope attributes (a scoped
grant sees nothing), no roles.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from starlette.datastructures import Headers

from auth.keys import SYSTEM_ID
from errors import Unauthenticated
from policies import PUBLIC, Caller
from store.tables import audit_records
from web.headers import audit_column_length, text_header

DEPARTMENT = "X-Acting-Department"
SYSTEM = "X-Acting-System"
PERSON = ("X-Acting-Person", audit_column_length(audit_records.c.person))
PUBLIC_CALLER = "public"
"""`X-Acting-Department: public`: the peer asks for the public, who reads open data only."""
_CREDIT_CODE = re.compile(r"[0-9A-Z]{18}")


def acting_caller(caller: Caller, headers: Headers, peers: Mapping[str, list[str]]) -> Caller:
    """The caller a trusted peer acts for, or `caller` itself when no acting header is
    sent; UNAUTHENTICATED for acting headers from any other key, for a department the
    peer may not act for, or for an acting caller not fully named."""
    sent = [name for name in (DEPARTMENT, SYSTEM, PERSON[0]) if name in headers]
    if not sent:
        return caller
    acting_for = peers.get(caller.system_subject) if caller.department else None
    if acting_for is None or caller.person is not None:
        raise Unauthenticated(
            f"{sent[0]} is accepted only from the API key of a trusted peer platform"
        )
    department = headers.get(DEPARTMENT, "")
    if department == PUBLIC_CALLER:
        if len(sent) > 1:
            raise Unauthenticated(f"the public is acted for without {SYSTEM} or {PERSON[0]}")
        return PUBLIC
    system = headers.get(SYSTEM, "")
    if not _CREDIT_CODE.fullmatch(department) or not SYSTEM_ID.fullmatch(system):
        raise Unauthenticated(
            f"a peer platform names the caller it acts for: {DEPARTMENT} (a unified social "
            f"credit code, or {PUBLIC_CALLER}) and {SYSTEM} (a system id)"
        )
    acted_system = f"{system}@{caller.system}"
    if len(acted_system) > audit_column_length(audit_records.c.caller_system):
        raise Unauthenticated(f"{SYSTEM} is too long to be on record")
    if "*" not in acting_for and department not in acting_for:
        raise Unauthenticated("this peer platform may not act for that department here")
    return Caller(
        department=department,
        system=acted_system,
        person=text_header(headers, PERSON),
        credential=f"{caller.credential}>{department}/{system}",
    )
