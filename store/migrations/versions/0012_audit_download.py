"""A batch download's pages on record as one download: `download_id` (the request id of
its first page), `download_records` (the records it served through this page) and
`download_digest` (SM3 over the hashed keys it served through this page, chained page
by page: `audit.downloads`). NULL on every other record.

Each column is hashed into the chain when it holds a value
(`audit.chain.HASHED_WHEN_PRESENT`), so records written before it hash as they did.
Added in place, as 0009 and 0011 did: a batch copy on SQLite would drop the
append-only triggers (0003).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COLUMNS = ("download_id", "download_records", "download_digest")


def upgrade() -> None:
    op.add_column("audit_records", sa.Column("download_id", sa.String(36)))
    op.add_column("audit_records", sa.Column("download_records", sa.BigInteger))
    op.add_column("audit_records", sa.Column("download_digest", sa.String(64)))


def downgrade() -> None:
    for column in reversed(COLUMNS):
        op.execute(f"ALTER TABLE audit_records DROP COLUMN {column}")
