"""The audit record names the person a request was made for, as verified.

`operator` stays what a system asserts in X-Operator, unchecked; `person` is the one a
sign-on token named and the platform verified (`auth.tokens`), NULL for requests made
with an API key alone. It is hashed into the chain when it holds a value
(`audit.chain.HASHED_WHEN_PRESENT`), so records written before it hash as they did.

Added in place, not through a batch copy: on SQLite a copy would drop the append-only
triggers (0003). The writer's table-level INSERT on PostgreSQL covers the new column.

Numbered 0009: 0008 may be taken by a migration made alongside this one.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_records", sa.Column("person", sa.String(100)))


def downgrade() -> None:
    op.execute("ALTER TABLE audit_records DROP COLUMN person")
