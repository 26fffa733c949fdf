"""Platform-store tables. Change them only through a new Alembic migration."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("department_code", sa.String(18), nullable=False),
    sa.Column("department_name", sa.String(200), nullable=False),
    sa.Column("system_id", sa.String(100), nullable=False),
    sa.Column("system_name", sa.String(200), nullable=False),
    sa.Column("demo", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    # What grant scopes compare rows with: {"township": "横水镇"} (0004_grants).
    sa.Column("attributes", sa.JSON, nullable=False, server_default="{}"),
    # Expiry, the reason for a revocation, the key a rotation replaced (0005_api_key_lifecycle).
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("revoked_reason", sa.String(200)),
    sa.Column("replaces", sa.Integer),
)

audit_records = sa.Table(
    "audit_records",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("request_id", sa.String(36), nullable=False, unique=True),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("caller_department", sa.String(18)),
    sa.Column("caller_system", sa.String(100)),
    sa.Column("operator", sa.String(100)),
    # The person a sign-on token named, verified (0009_audit_person); operator is asserted.
    sa.Column("person", sa.String(100)),
    # The registered document run, by its id (0011_audit_document_id): `sha256:<hex>` or
    # a manifest's own id; NULL for free text that matched none.
    sa.Column("document_id", sa.String(210)),
    # A batch download's page (0012_audit_download, audit/downloads.py): the request id
    # of the download's first page, and its records and key digest through this page.
    sa.Column("download_id", sa.String(36)),
    sa.Column("download_records", sa.BigInteger),
    sa.Column("download_digest", sa.String(64)),
    # The subjects' identifiers sealed to the auditor's key, when one is set (0013).
    sa.Column("sealed_subjects", sa.Text),
    sa.Column("purpose", sa.String(40)),
    sa.Column("purpose_reference", sa.String(200)),
    sa.Column("operation_hash", sa.String(64)),
    sa.Column("operation_name", sa.String(200)),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("http_status", sa.Integer, nullable=False),
    sa.Column("error_codes", sa.JSON, nullable=False),
    sa.Column("fields", sa.JSON, nullable=False),
    sa.Column("records", sa.JSON, nullable=False),
    sa.Column("hash_key_id", sa.String(64), nullable=False),
    sa.Column("catalog_version", sa.String(32), nullable=False),
    sa.Column("policy_version", sa.String(32), nullable=False),
    sa.Column("client_address", sa.String(64)),
    sa.Column("duration_ms", sa.Float, nullable=False),
    # The hash chain (0002_hash_chain, audit/chain.py).
    sa.Column("chain_id", sa.String(36), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("record_hash", sa.String(64), nullable=False),
    sa.UniqueConstraint("chain_id", "seq", name="uq_audit_records_chain_seq"),
)
sa.Index("ix_audit_records_occurred_at", audit_records.c.occurred_at)
sa.Index("ix_audit_records_caller", audit_records.c.caller_department, audit_records.c.occurred_at)
# The auditors' filters (0013_audit_search, audit/search.py). A column most records
# leave empty is indexed where it holds a value only (0015): an equality filter implies
# that, and the writer skips the index for every record without one.
for _name, _column in {
    "ix_audit_records_system": audit_records.c.caller_system,
    "ix_audit_records_purpose": audit_records.c.purpose,
    "ix_audit_records_outcome": audit_records.c.outcome,
}.items():
    sa.Index(_name, _column, audit_records.c.occurred_at)
for _name, _column in {
    "ix_audit_records_person": audit_records.c.person,
    "ix_audit_records_reference": audit_records.c.purpose_reference,
    "ix_audit_records_document": audit_records.c.document_id,
}.items():
    _held = _column.is_not(None)
    sa.Index(
        _name, _column, audit_records.c.occurred_at, sqlite_where=_held, postgresql_where=_held
    )

# What sits inside a record's JSON, one row per (record, facet, value), filed by the
# writer with the record (audit.facets, 0015): s subject hash, r resource,
# i item, d decision, g grant basis.
# Keyed by record (0015; on SQLite WITHOUT ROWID): a record's facets append at the end
# of one b-tree, and the value index is the only other one the writer touches.
audit_facets = sa.Table(
    "audit_facets",
    metadata,
    sa.Column("record_id", sa.BigInteger, primary_key=True),
    sa.Column("facet", sa.String(1), primary_key=True),
    sa.Column("value", sa.Text, primary_key=True),
)
sa.Index(
    "ix_audit_facets_value", audit_facets.c.facet, audit_facets.c.value, audit_facets.c.record_id
)

# The store's one audit chain, made by 0002_hash_chain.
audit_chain = sa.Table(
    "audit_chain",
    metadata,
    sa.Column("chain_id", sa.String(36), primary_key=True),
    sa.Column("format", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# Export markers: a range of the chain exported before removal (audit/retention.py);
# the latest one anchors verification of what remains.
audit_exports = sa.Table(
    "audit_exports",
    metadata,
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

# Providers' conditional approvals (0004_grants, grants/).
grants = sa.Table(
    "grants",
    metadata,
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
sa.Index("ix_grants_changed_at", grants.c.changed_at)

# Who changed a grant, how and why (0006_grant_changes); operator and reason are NULL
# only for changes made before that migration; `sequence`, the grant sequence the change
# moved to (0007), only for changes made before that one.
grant_changes = sa.Table(
    "grant_changes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("grant_id", sa.Integer, sa.ForeignKey("grants.id"), nullable=False),
    sa.Column("change", sa.String(10), nullable=False),
    sa.Column("operator", sa.String(100)),
    sa.Column("reason", sa.String(200)),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sequence", sa.BigInteger),
)
sa.Index("ix_grant_changes_grant_id", grant_changes.c.grant_id)
sa.Index("ix_grant_changes_sequence", grant_changes.c.sequence)

# The grant store's change sequence: one row, moved in the transaction of every grant
# made or revoked (0007_grant_sequence).
grant_sequence = sa.Table(
    "grant_sequence",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sequence", sa.BigInteger, nullable=False),
    sa.CheckConstraint("id = 1", name="ck_grant_sequence_one_row"),
)

# Verification checks used per caller system and Asia/Shanghai day (0004_grants).
verification_usage = sa.Table(
    "verification_usage",
    metadata,
    sa.Column("caller_system", sa.String(140), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("used", sa.Integer, nullable=False),
)

# Documents department systems registered to call by id (0008_persisted_documents): once
# per owner system and SHA-256 of the exact text; `custom_id` for a manifest's own ids
# (Relay's). The owner is the authenticated caller's, never a client's header.
persisted_documents = sa.Table(
    "persisted_documents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("owner_department", sa.String(18), nullable=False),
    sa.Column("owner_system", sa.String(100), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("custom_id", sa.String(200)),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # What a registration says of it (0010_trusted_documents): the operation's name and
    # type, the SHA-256 of its text with ignored tokens stripped, the purposes it is bound
    # to (NULL: any), and who registered it from a manifest, and why.
    sa.Column("name", sa.String(200)),
    sa.Column("operation_type", sa.String(12)),
    sa.Column("normalised_sha256", sa.String(64)),
    sa.Column("purposes", sa.JSON),
    sa.Column("operator", sa.String(100)),
    sa.Column("reason", sa.String(200)),
    sa.UniqueConstraint(
        "owner_department", "owner_system", "sha256", name="uq_persisted_documents_sha256"
    ),
    sa.UniqueConstraint(
        "owner_department", "owner_system", "custom_id", name="uq_persisted_documents_custom_id"
    ),
)
sa.Index(
    "ix_persisted_documents_normalised",
    persisted_documents.c.owner_department,
    persisted_documents.c.owner_system,
    persisted_documents.c.normalised_sha256,
)

# The other systems a document is shared with (0010_trusted_documents).
persisted_document_shares = sa.Table(
    "persisted_document_shares",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("document_id", sa.Integer, sa.ForeignKey("persisted_documents.id"), nullable=False),
    sa.Column("department", sa.String(18), nullable=False),
    sa.Column("system", sa.String(100), nullable=False),
    sa.UniqueConstraint("document_id", "department", "system", name="uq_persisted_document_shares"),
)
sa.Index(
    "ix_persisted_document_shares_reader",
    persisted_document_shares.c.department,
    persisted_document_shares.c.system,
)

# Every change of a system's mode, with who made it and why (0010_trusted_documents):
# the latest row per system is in force; a system without one is open.
document_modes = sa.Table(
    "document_modes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("department", sa.String(18), nullable=False),
    sa.Column("system", sa.String(100), nullable=False),
    sa.Column("mode", sa.String(20), nullable=False),
    sa.Column("operator", sa.String(100), nullable=False),
    sa.Column("reason", sa.String(200), nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
)

# Free-text operations a system in log-unknown mode sent that match no registered
# document, counted per normalised hash (0010_trusted_documents).
unknown_operations = sa.Table(
    "unknown_operations",
    metadata,
    sa.Column("department", sa.String(18), primary_key=True),
    sa.Column("system", sa.String(100), primary_key=True),
    sa.Column("normalised_sha256", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200)),
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
)

# Applications for conditional items and their steps (0014_applications, applications/).
applications = sa.Table(
    "applications",
    metadata,
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
    # The use conditions the applicant acknowledged (Art. 11), by their version.
    sa.Column("acknowledged", sa.String(200), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("provisional", sa.Boolean, nullable=False),
    sa.Column("answered_at", sa.DateTime(timezone=True)),
    sa.Column("grant_id", sa.Integer, sa.ForeignKey("grants.id")),
    # When the approval's grant ends (the approved validity, not the one applied for).
    sa.Column("granted_until", sa.DateTime(timezone=True)),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
)
sa.Index("ix_applications_provider_state", applications.c.provider_code, applications.c.state)
sa.Index("ix_applications_consumer_state", applications.c.consumer_department, applications.c.state)

# Each item of each open application, once: what refuses a duplicate, even at once.
application_open_items = sa.Table(
    "application_open_items",
    metadata,
    sa.Column("application_id", sa.Integer, sa.ForeignKey("applications.id"), nullable=False),
    sa.Column("consumer", sa.String(140), nullable=False),
    sa.Column("resource_id", sa.String(64), nullable=False),
    sa.Column("purpose", sa.String(40), nullable=False),
    sa.Column("item", sa.String(64), nullable=False),
    sa.UniqueConstraint(
        "consumer", "resource_id", "purpose", "item", name="uq_application_open_items"
    ),
)
sa.Index("ix_application_open_items_application", application_open_items.c.application_id)

application_steps = sa.Table(
    "application_steps",
    metadata,
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
sa.Index("ix_application_steps_application", application_steps.c.application_id)

# Webhook deliveries to department systems (0014_applications, notifications/): one row per
# (event, recipient), made once (`dedupe`), tried until delivered or dead.
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
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
sa.Index(
    "ix_webhook_deliveries_due", webhook_deliveries.c.state, webhook_deliveries.c.next_attempt_at
)

# How far the notifier has read the application steps (one row).
notification_cursor = sa.Table(
    "notification_cursor",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("step_id", sa.Integer, nullable=False),
    sa.CheckConstraint("id = 1", name="ck_notification_cursor_one_row"),
)
