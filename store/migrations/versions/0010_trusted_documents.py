"""Trusted documents per department system: what a registration says of a document,
with whom it is shared, each system's mode, and the operations a system still sends
as free text.

- `persisted_documents` gains the operation's name and type, the SHA-256 of its text
  with ignored tokens stripped (`normalised_sha256`: free text matches a registered
  document whatever its whitespace), the purposes it is bound to (NULL: any), and the
  operator and reason of a registration made from a manifest (NULL for Apollo's
  automatic registration). Rows made before are given their normalised hash here.
- `persisted_document_shares`: the other systems that may call a document; the owner
  never needs a row.
- `document_modes`: every change of a system's mode (open, log-unknown,
  persisted-only), with its operator and reason; the latest row per system is in force,
  and a system without one is open.
- `unknown_operations`: per system and normalised hash, the free-text operations a
  system in log-unknown mode sent that match no registered document, counted.

On PostgreSQL the server's writer role reads all of them, registers documents and
their shares (the admin mutation), and counts unknown operations; only the platform's
admins change a mode (`python -m documents mode`).

Revision ID: 0010
Revises: 0009
"""

import hashlib

import sqlalchemy as sa
from alembic import op
from graphql import GraphQLError
from graphql.utilities import strip_ignored_characters

from store.roles import role_prefix

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for column in (
        sa.Column("name", sa.String(200)),
        sa.Column("operation_type", sa.String(12)),
        sa.Column("normalised_sha256", sa.String(64)),
        sa.Column("purposes", sa.JSON),
        sa.Column("operator", sa.String(100)),
        sa.Column("reason", sa.String(200)),
    ):
        op.add_column("persisted_documents", column)
    op.create_index(
        "ix_persisted_documents_normalised",
        "persisted_documents",
        ["owner_department", "owner_system", "normalised_sha256"],
    )
    _normalise_existing()
    op.create_table(
        "persisted_document_shares",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "document_id", sa.Integer, sa.ForeignKey("persisted_documents.id"), nullable=False
        ),
        sa.Column("department", sa.String(18), nullable=False),
        sa.Column("system", sa.String(100), nullable=False),
        sa.UniqueConstraint(
            "document_id", "department", "system", name="uq_persisted_document_shares"
        ),
    )
    op.create_index(
        "ix_persisted_document_shares_reader",
        "persisted_document_shares",
        ["department", "system"],
    )
    op.create_table(
        "document_modes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("department", sa.String(18), nullable=False),
        sa.Column("system", sa.String(100), nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("operator", sa.String(100), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "unknown_operations",
        sa.Column("department", sa.String(18), primary_key=True),
        sa.Column("system", sa.String(100), primary_key=True),
        sa.Column("normalised_sha256", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200)),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        writer = f'"{role_prefix()}_writer"'
        sequence = (
            op.get_bind()
            .exec_driver_sql("SELECT pg_get_serial_sequence('persisted_document_shares', 'id')")
            .scalar_one()
        )
        op.execute(f"GRANT SELECT, INSERT ON persisted_document_shares TO {writer}")
        op.execute(f"GRANT USAGE ON SEQUENCE {sequence} TO {writer}")
        op.execute(f"GRANT SELECT ON document_modes TO {writer}")
        op.execute(f"GRANT SELECT, INSERT, UPDATE ON unknown_operations TO {writer}")


def _normalise_existing() -> None:
    """Rows registered before were parsed and validated first, so they normalise."""
    table = sa.table(
        "persisted_documents",
        sa.column("id", sa.Integer),
        sa.column("text", sa.Text),
        sa.column("normalised_sha256", sa.String),
    )
    bind = op.get_bind()
    for identifier, text in bind.execute(sa.select(table.c.id, table.c.text)).all():
        try:
            normalised = strip_ignored_characters(text)
        except GraphQLError:
            continue  # never matched as free text; still called by its id
        digest = hashlib.sha256(normalised.encode()).hexdigest()
        bind.execute(
            sa.update(table).where(table.c.id == identifier).values(normalised_sha256=digest)
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        writer = f'"{role_prefix()}_writer"'
        for table in ("persisted_document_shares", "document_modes", "unknown_operations"):
            op.execute(f"REVOKE ALL ON {table} FROM {writer}")
    op.drop_table("unknown_operations")
    op.drop_table("document_modes")
    op.drop_table("persisted_document_shares")
    op.drop_index("ix_persisted_documents_normalised", "persisted_documents")
    for name in ("reason", "operator", "purposes", "normalised_sha256", "operation_type", "name"):
        op.execute(f"ALTER TABLE persisted_documents DROP COLUMN {name}")
