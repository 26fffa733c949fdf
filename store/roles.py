"""The PostgreSQL roles the migrations make, named under the `audit_role_prefix` setting."""

from __future__ import annotations

import re

from alembic import context

from settings import Settings


def role_prefix() -> str:
    """From the migration's config (tests) or the settings; a plain identifier only, as
    it is written into GRANT and CREATE ROLE statements."""
    prefix = context.config.attributes.get("audit_role_prefix") or Settings().audit_role_prefix
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,40}", prefix):
        raise ValueError(f"audit_role_prefix {prefix!r} is not a plain lower-case identifier")
    return str(prefix)
