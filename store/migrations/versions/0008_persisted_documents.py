"""Persisted documents: the GraphQL documents a department system calls by id.

Apollo's automatic persisted queries and the GraphQL-over-HTTP persisted-documents
appendix both name a document by the SHA-256 of its text; a Relay manifest names it by
an id of its own (`custom_id`). A document belongs to the system that registered it,
and another system's id finds nothing: the same text registered by two systems is two
rows. The text is what runs, so rows are never changed; there is no removal yet.

On PostgreSQL the server's writer role reads them and registers new ones.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from store.roles import role_prefix

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "persisted_documents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("owner_department", sa.String(18), nullable=False),
        sa.Column("owner_system", sa.String(100), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("custom_id", sa.String(200)),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "owner_department", "owner_system", "sha256", name="uq_persisted_documents_sha256"
        ),
        sa.UniqueConstraint(
            "owner_department", "owner_system", "custom_id", name="uq_persisted_documents_custom_id"
        ),
    )
    if op.get_bind().dialect.name == "postgresql":
        writer = f'"{role_prefix()}_writer"'
        bind = op.get_bind()
        sequence = bind.exec_driver_sql(
            "SELECT pg_get_serial_sequence('persisted_documents', 'id')"
        ).scalar_one()
        op.execute(f"GRANT SELECT, INSERT ON persisted_documents TO {writer}")
        op.execute(f"GRANT USAGE ON SEQUENCE {sequence} TO {writer}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f'REVOKE ALL ON persisted_documents FROM "{role_prefix()}_writer"')
    op.drop_table("persisted_documents")
