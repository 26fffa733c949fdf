"""Applications for conditional items (Art. 8) and every step of each: who applied for
what and why, by when the provider must answer, who answered, how and why.

`applications.state` is the state machine's (`applications/model.py`); an answer moves
it with a conditional UPDATE (`WHERE state = 'applied'`), so of two concurrent answers
exactly one changes a row; `application_open_items` holds each item of each open
application once (a unique index), so of two applications for one item at once exactly
one is taken. `application_steps` is the history: one row per step, never
changed. `webhook_deliveries` are the department systems' notifications, made from the
steps the notifier has read (`notification_cursor`) and from deadlines coming up.

On PostgreSQL the server's writer role keeps both, and, since an approval becomes a
grant in the same transaction, now also makes and revokes grants (until now only the
admins' command line did).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

from store.roles import role_prefix

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "applications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("consumer", sa.String(140), nullable=False),
        sa.Column("consumer_department", sa.String(18), nullable=False),
        sa.Column("applicant", sa.String(100)),
        sa.Column("provider_code", sa.String(18), nullable=False),
        sa.Column("resource_id", sa.String(64), nullable=False),
        sa.Column("items", sa.JSON, nullable=False),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("business_reason", sa.String(500), nullable=False),
        sa.Column("case_reference", sa.String(200), nullable=False),
        sa.Column("scope", sa.String(400), nullable=False, server_default=""),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged", sa.String(200), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("provisional", sa.Boolean, nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True)),
        sa.Column("grant_id", sa.Integer, sa.ForeignKey("grants.id")),
        sa.Column("granted_until", sa.DateTime(timezone=True)),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_applications_provider_state", "applications", ["provider_code", "state"])
    op.create_index(
        "ix_applications_consumer_state", "applications", ["consumer_department", "state"]
    )
    op.create_table(
        "application_steps",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("application_id", sa.Integer, sa.ForeignKey("applications.id"), nullable=False),
        sa.Column("step", sa.String(20), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("department", sa.String(18)),
        sa.Column("person", sa.String(100), nullable=False),
        sa.Column("reason", sa.String(500)),
        sa.Column("terms", sa.JSON, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_application_steps_application", "application_steps", ["application_id"])
    op.create_table(
        "application_open_items",
        sa.Column("application_id", sa.Integer, sa.ForeignKey("applications.id"), nullable=False),
        sa.Column("consumer", sa.String(140), nullable=False),
        sa.Column("resource_id", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("item", sa.String(64), nullable=False),
        sa.UniqueConstraint(
            "consumer", "resource_id", "purpose", "item", name="uq_application_open_items"
        ),
    )
    op.create_index(
        "ix_application_open_items_application", "application_open_items", ["application_id"]
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("dedupe", sa.String(120), nullable=False, unique=True),
        sa.Column("recipient", sa.String(40), nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("application_id", sa.Integer, sa.ForeignKey("applications.id"), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_status", sa.Integer),
        sa.Column("last_error", sa.String(200)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["state", "next_attempt_at"])
    cursor = op.create_table(
        "notification_cursor",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("step_id", sa.Integer, nullable=False),
        sa.CheckConstraint("id = 1", name="ck_notification_cursor_one_row"),
    )
    op.bulk_insert(cursor, [{"id": 1, "step_id": 0}])
    if op.get_bind().dialect.name == "postgresql":
        writer = f'"{role_prefix()}_writer"'
        bind = op.get_bind()
        op.execute(f"GRANT SELECT, INSERT, UPDATE ON applications TO {writer}")
        op.execute(f"GRANT SELECT, INSERT ON application_steps TO {writer}")
        op.execute(f"GRANT SELECT, INSERT, DELETE ON application_open_items TO {writer}")
        op.execute(f"GRANT SELECT, INSERT, UPDATE ON webhook_deliveries TO {writer}")
        op.execute(f"GRANT SELECT, UPDATE ON notification_cursor TO {writer}")
        op.execute(f"GRANT INSERT, UPDATE ON grants TO {writer}")
        op.execute(f"GRANT SELECT, INSERT ON grant_changes TO {writer}")
        op.execute(f"GRANT UPDATE ON grant_sequence TO {writer}")
        tables = ("applications", "application_steps", "webhook_deliveries")
        for table in (*tables, "grants", "grant_changes"):
            sequence = bind.exec_driver_sql(
                f"SELECT pg_get_serial_sequence('{table}', 'id')"
            ).scalar_one()
            op.execute(f"GRANT USAGE ON SEQUENCE {sequence} TO {writer}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        writer = f'"{role_prefix()}_writer"'
        op.execute(
            "REVOKE ALL ON applications, application_steps, application_open_items, "
            "webhook_deliveries, "
            f"notification_cursor FROM {writer}"
        )
        op.execute(f"REVOKE INSERT, UPDATE ON grants FROM {writer}")
        op.execute(f"REVOKE INSERT ON grant_changes FROM {writer}")
        op.execute(f"REVOKE UPDATE ON grant_sequence FROM {writer}")
    op.drop_table("notification_cursor")
    op.drop_table("webhook_deliveries")
    op.drop_table("application_open_items")
    op.drop_table("application_steps")
    op.drop_table("applications")
