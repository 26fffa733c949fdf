"""The grant store's change sequence: one row, one number, moved by every change, and
named by the change's own history row.

A server tells whether the grants changed by reading this number, and the policy
version is derived from it (`grants/policy_source.py`): the same number means the
same grants on every instance. It is moved in the same transaction as the grant it
counts, so no instance can read a new grant under an old number. The count of rows
and the latest `changed_at` it replaces could stand still across a change (two
instances whose clocks disagree) and could not be part of a version.

On PostgreSQL the server's writer role reads it; only the platform's admins, who make
and revoke grants, move it.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from store.roles import role_prefix

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    sequence = op.create_table(
        "grant_sequence",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sequence", sa.BigInteger, nullable=False),
        sa.CheckConstraint("id = 1", name="ck_grant_sequence_one_row"),
    )
    op.bulk_insert(sequence, [{"id": 1, "sequence": 0}])
    # Each change names the sequence it moved to, so that a server can read only the
    # changes after the sequence it has (NULL: made before the sequence was kept).
    with op.batch_alter_table("grant_changes") as changes:
        changes.add_column(sa.Column("sequence", sa.BigInteger))
        changes.create_index("ix_grant_changes_sequence", ["sequence"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f'GRANT SELECT ON grant_sequence TO "{role_prefix()}_writer"')


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f'REVOKE ALL ON grant_sequence FROM "{role_prefix()}_writer"')
    with op.batch_alter_table("grant_changes") as changes:
        changes.drop_index("ix_grant_changes_sequence")
        changes.drop_column("sequence")
    op.drop_table("grant_sequence")
