"""API keys expire, are revoked with a reason, and name the key they replaced.

`python -m auth rotate` issues a new key for a system and lets the old one work until
the end of an overlap window (`expires_at`); `python -m auth revoke` records why
(`revoked_reason`). `replaces` is the id of the key a rotation replaced.

On PostgreSQL the server's writer role (0004) reads api_keys through a table-level
SELECT, which covers columns added later: it reads the expiry it must enforce, and
still cannot change a key.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("revoked_reason", sa.String(200)))
        batch.add_column(sa.Column("replaces", sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("replaces")
        batch.drop_column("revoked_reason")
        batch.drop_column("expires_at")
