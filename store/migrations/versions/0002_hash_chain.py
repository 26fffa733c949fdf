"""Audit hash chain: chain_id, seq, prev_hash, record_hash; the chain; export markers.

Records written before this migration are chained in the order they were written (by
id), so the whole log verifies from genesis.

Revision ID: 0002
Revises: 0001
"""

import datetime
import uuid

import sqlalchemy as sa
from alembic import op

from audit.chain import FORMAT, GENESIS, Head, link

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# audit_records as 0001 made it, plus the chain columns: what the backfill reads and writes.
_records = sa.table(
    "audit_records",
    sa.column("id", sa.Integer),
    sa.column("request_id", sa.String),
    sa.column("occurred_at", sa.DateTime(timezone=True)),
    sa.column("caller_department", sa.String),
    sa.column("caller_system", sa.String),
    sa.column("operator", sa.String),
    sa.column("purpose", sa.String),
    sa.column("purpose_reference", sa.String),
    sa.column("operation_hash", sa.String),
    sa.column("operation_name", sa.String),
    sa.column("outcome", sa.String),
    sa.column("http_status", sa.Integer),
    sa.column("error_codes", sa.JSON),
    sa.column("fields", sa.JSON),
    sa.column("records", sa.JSON),
    sa.column("hash_key_id", sa.String),
    sa.column("catalog_version", sa.String),
    sa.column("policy_version", sa.String),
    sa.column("client_address", sa.String),
    sa.column("duration_ms", sa.Float),
    sa.column("chain_id", sa.String),
    sa.column("seq", sa.BigInteger),
    sa.column("prev_hash", sa.String),
    sa.column("record_hash", sa.String),
)
_PAGE = 1000


def upgrade() -> None:
    chain = op.create_table(
        "audit_chain",
        sa.Column("chain_id", sa.String(36), primary_key=True),
        sa.Column("format", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    chain_id = str(uuid.uuid4())
    op.bulk_insert(
        chain,
        [
            {
                "chain_id": chain_id,
                "format": FORMAT,
                "created_at": datetime.datetime.now(datetime.UTC),
            }
        ],
    )
    op.create_table(
        "audit_exports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("chain_id", sa.String(36), nullable=False),
        sa.Column("from_seq", sa.BigInteger, nullable=False),
        sa.Column("to_seq", sa.BigInteger, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("record_count", sa.BigInteger, nullable=False),
        sa.Column("cutoff", sa.DateTime(timezone=True), nullable=False),
        sa.Column("file_name", sa.String(200), nullable=False),
        sa.Column("file_sm3", sa.String(64), nullable=False),
        sa.Column("checkpoint", sa.Text, nullable=False),
        sa.Column("exported_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("chain_id", "to_seq", name="uq_audit_exports_chain_to_seq"),
    )
    with op.batch_alter_table("audit_records") as batch:
        batch.add_column(sa.Column("chain_id", sa.String(36)))
        batch.add_column(sa.Column("seq", sa.BigInteger))
        batch.add_column(sa.Column("prev_hash", sa.String(64)))
        batch.add_column(sa.Column("record_hash", sa.String(64)))
    _chain_existing_records(chain_id)
    with op.batch_alter_table("audit_records") as batch:
        batch.alter_column("chain_id", existing_type=sa.String(36), nullable=False)
        batch.alter_column("seq", existing_type=sa.BigInteger, nullable=False)
        batch.alter_column("prev_hash", existing_type=sa.String(64), nullable=False)
        batch.alter_column("record_hash", existing_type=sa.String(64), nullable=False)
        batch.create_unique_constraint("uq_audit_records_chain_seq", ["chain_id", "seq"])


def _chain_existing_records(chain_id: str) -> None:
    bind = op.get_bind()
    head, last_id = Head(0, GENESIS), 0
    while True:
        page = (
            bind.execute(
                sa.select(_records)
                .where(_records.c.id > last_id)
                .order_by(_records.c.id)
                .limit(_PAGE)
            )
            .mappings()
            .all()
        )
        if not page:
            return
        rows = [dict(row) for row in page]
        head = link(head, chain_id, rows)
        for row in rows:
            bind.execute(
                _records.update()
                .where(_records.c.id == row["id"])
                .values(
                    chain_id=row["chain_id"],
                    seq=row["seq"],
                    prev_hash=row["prev_hash"],
                    record_hash=row["record_hash"],
                )
            )
        last_id = rows[-1]["id"]


def downgrade() -> None:
    with op.batch_alter_table("audit_records") as batch:
        batch.drop_constraint("uq_audit_records_chain_seq", type_="unique")
        batch.drop_column("record_hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")
        batch.drop_column("chain_id")
    op.drop_table("audit_exports")
    op.drop_table("audit_chain")
