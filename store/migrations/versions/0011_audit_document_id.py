"""The audit record names the registered document a request ran: `sha256:<hex>` of
its text or a manifest's own id, for a call by id and for free text that matched a
registered document; NULL otherwise.

`operation_hash` stays the SM3 of the text run; `document_id` says which reviewed
registration it was. It is hashed into the chain when it holds a value
(`audit.chain.HASHED_WHEN_PRESENT`), so records written before it hash as they did.
Added in place, as 0009 added `person`: a batch copy on SQLite would drop the
append-only triggers (0003).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_records", sa.Column("document_id", sa.String(210)))


def downgrade() -> None:
    op.execute("ALTER TABLE audit_records DROP COLUMN document_id")
