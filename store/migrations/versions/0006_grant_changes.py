"""Every change to a grant names who made it and why.

`grant_changes` holds one row per change a policy admin made through
`python -m policies grant | revoke`: the grant, what was done (`granted`, `revoked`),
the operator (`--operator`) and the reason (`--reason`), and when (UTC). The grant's
own row keeps what the grant is; this table is its history, which `python -m policies
grants --history` shows. Grants recorded before this migration get their history from
their own times, with no operator or reason: nobody was asked for one then, and none is
made up.

On PostgreSQL the auditor role (0003) may read grants and their history: checking who
gave which department what is an auditor's work. The server's writer role needs
neither.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from store.roles import role_prefix

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    changes = op.create_table(
        "grant_changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("grant_id", sa.Integer, sa.ForeignKey("grants.id"), nullable=False),
        sa.Column("change", sa.String(10), nullable=False),
        sa.Column("operator", sa.String(100)),
        sa.Column("reason", sa.String(200)),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    assert changes is not None
    op.create_index("ix_grant_changes_grant_id", "grant_changes", ["grant_id"])
    grants = sa.table(
        "grants",
        sa.column("id", sa.Integer),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("revoked_at", sa.DateTime(timezone=True)),
    )
    columns = ["grant_id", "change", "changed_at"]
    made = sa.select(grants.c.id, sa.literal("granted"), grants.c.created_at)
    op.execute(changes.insert().from_select(columns, made))
    revoked = sa.select(grants.c.id, sa.literal("revoked"), grants.c.revoked_at).where(
        grants.c.revoked_at.is_not(None)
    )
    op.execute(changes.insert().from_select(columns, revoked))
    if op.get_bind().dialect.name == "postgresql":
        auditor = f'"{role_prefix()}_auditor"'
        op.execute(f"GRANT SELECT ON grants, grant_changes TO {auditor}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        auditor = f'"{role_prefix()}_auditor"'
        op.execute(f"REVOKE ALL ON grants, grant_changes FROM {auditor}")
    op.drop_index("ix_grant_changes_grant_id", "grant_changes")
    op.drop_table("grant_changes")
