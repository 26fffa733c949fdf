"""Grants, caller attributes and the verification quota.

A grant is a provider's conditional approval (Art. 7, 11): which consumer may read
which items clear, masked or only verify them, for which purposes, within which rows
(`scope`) and for how long. `changed_at` moves on every change, so a running server
notices new or revoked grants by polling one row.

API keys gain `attributes`: what a grant's scope compares rows with (the consumer's
township, its industry), set by the platform when the key is issued, never by a query.

On PostgreSQL the server's writer role (0003) may read API keys and grants and count
verification checks; it cannot make, change or revoke a grant or a key: that is the
platform's administration, with another role.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from store.roles import role_prefix

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "grants",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("consumer", sa.String(140), nullable=False),
        sa.Column("resource_id", sa.String(64), nullable=False),
        sa.Column("items", sa.JSON, nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("purposes", sa.JSON, nullable=False),
        sa.Column("scope", sa.String(400), nullable=False, server_default=""),
        sa.Column("valid_from", sa.DateTime(timezone=True)),
        sa.Column("valid_until", sa.DateTime(timezone=True)),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_grants_changed_at", "grants", ["changed_at"])
    op.create_table(
        "verification_usage",
        sa.Column("caller_system", sa.String(140), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("used", sa.Integer, nullable=False),
    )
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("attributes", sa.JSON, nullable=False, server_default="{}"))
    if op.get_bind().dialect.name == "postgresql":
        writer = f'"{role_prefix()}_writer"'
        op.execute(f"GRANT SELECT ON api_keys, grants TO {writer}")
        op.execute(f"GRANT SELECT, INSERT, UPDATE ON verification_usage TO {writer}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        writer = f'"{role_prefix()}_writer"'
        op.execute(f"REVOKE ALL ON api_keys, grants, verification_usage FROM {writer}")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("attributes")
    op.drop_table("verification_usage")
    op.drop_index("ix_grants_changed_at", "grants")
    op.drop_table("grants")
