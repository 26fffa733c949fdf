"""Indexes for the auditors' search of the log (`audit.search`), and the subjects
sealed to the auditor's key (`audit.sealing`, column `sealed_subjects`).

Columns a filter compares get an index each, with the time after them (a filter and a
time range, newest first, read as one index range): caller system, person, purpose,
purpose reference, outcome, document id. The caller department has one already (0001).

What sits inside a record's JSON — the data subjects and resources of its records, the
items its fields read, the decisions and the grants behind them — goes to
`audit_facets`, one row per (record, facet, value), filled by a trigger as each record
is inserted (and for the records already there): the writer's statements stay as they
are, and the facets cannot disagree with the records they come from. Facets:

    s  a data subject's keyed hash (`records.*.subjects`)
    r  a resource served (`records` keys)
    i  an item decided (the last part of a field path whose decision is not structure)
    d  a decision (clear, masked, denied)
    g  a basis naming a grant (`grant:<id>`, or several joined by ` & `)

On PostgreSQL the table belongs to the audit owner like the log; the trigger's
function runs as the owner (SECURITY DEFINER), so the writer inserts records and holds
no right on the facets, and the auditor and retention roles read them. A record
removed past retention (only through `audit_remove_exported`) takes its facets along.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

from store.roles import role_prefix

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

COLUMN_INDEXES = {
    "ix_audit_records_system": "caller_system",
    "ix_audit_records_person": "person",
    "ix_audit_records_purpose": "purpose",
    "ix_audit_records_reference": "purpose_reference",
    "ix_audit_records_outcome": "outcome",
    "ix_audit_records_document": "document_id",
}


def upgrade() -> None:
    # Added in place, as 0009 added `person`: a batch copy on SQLite would drop the
    # append-only triggers (0003). Hashed into the chain when it holds a value.
    op.add_column("audit_records", sa.Column("sealed_subjects", sa.Text))
    op.create_table(
        "audit_facets",
        sa.Column("record_id", sa.BigInteger, nullable=False),
        sa.Column("facet", sa.String(1), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_index("ix_audit_facets_value", "audit_facets", ["facet", "value", "record_id"])
    op.create_index("ix_audit_facets_record", "audit_facets", ["record_id"])
    for name, column in COLUMN_INDEXES.items():
        op.create_index(name, "audit_records", [column, "occurred_at"])
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _postgresql_upgrade(bind, role_prefix())
    else:
        bind.exec_driver_sql(_SQLITE_INSERTED)
        bind.exec_driver_sql(_SQLITE_REMOVED)
        bind.exec_driver_sql(
            "INSERT INTO audit_facets (record_id, facet, value) "
            + _sqlite_facets("a", "FROM audit_records a")
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
        bind.exec_driver_sql(
            f'DROP TRIGGER IF EXISTS audit_records_facets ON "{schema}".audit_records'
        )
        bind.exec_driver_sql(
            f'DROP TRIGGER IF EXISTS audit_records_facets_removed ON "{schema}".audit_records'
        )
        bind.exec_driver_sql(f'DROP FUNCTION IF EXISTS "{schema}".audit_facets_inserted()')
        bind.exec_driver_sql(f'DROP FUNCTION IF EXISTS "{schema}".audit_facets_removed()')
    else:
        bind.exec_driver_sql("DROP TRIGGER IF EXISTS audit_records_facets")
        bind.exec_driver_sql("DROP TRIGGER IF EXISTS audit_records_facets_removed")
    for name in COLUMN_INDEXES:
        op.drop_index(name, "audit_records")
    op.drop_table("audit_facets")
    op.execute("ALTER TABLE audit_records DROP COLUMN sealed_subjects")


def _sqlite_facets(row: str, source: str) -> str:
    """The facets of the records `source` names as `row`, as one SELECT."""
    path = "json_extract(f.value, '$.path')"
    last_part = f"replace({path}, rtrim({path}, replace({path}, '.', '')), '')"
    decided = "json_extract(f.value, '$.decision')"
    basis = "json_extract(f.value, '$.basis')"
    return f"""
    SELECT {row}.id, 's', s.value
        {source}, json_each({row}.records) r, json_each(r.value, '$.subjects') s
    UNION SELECT {row}.id, 'r', r.key {source}, json_each({row}.records) r
    UNION SELECT {row}.id, 'i', {last_part}
        {source}, json_each({row}.fields) f WHERE {decided} <> 'structure'
    UNION SELECT {row}.id, 'd', {decided} {source}, json_each({row}.fields) f
        WHERE {decided} <> 'structure'
    UNION SELECT {row}.id, 'g', {basis} {source}, json_each({row}.fields) f
        WHERE {basis} LIKE '%grant:%'
    """


_SQLITE_INSERTED = f"""
CREATE TRIGGER audit_records_facets AFTER INSERT ON audit_records
BEGIN
    INSERT INTO audit_facets (record_id, facet, value) {_sqlite_facets("NEW", "FROM (SELECT 1)")};
END
"""

_SQLITE_REMOVED = """
CREATE TRIGGER audit_records_facets_removed AFTER DELETE ON audit_records
BEGIN
    DELETE FROM audit_facets WHERE record_id = OLD.id;
END
"""


def _postgresql_facets(row: str) -> str:
    """The facets of the record `row` (a row of audit_records), as one SELECT."""
    return f"""
    SELECT {row}.id, 's', s FROM json_each({row}.records) r,
        json_array_elements_text(r.value -> 'subjects') s
    UNION SELECT {row}.id, 'r', r FROM json_object_keys({row}.records) r
    UNION SELECT {row}.id, 'i', regexp_replace(f ->> 'path', '^.*[.]', '')
        FROM json_array_elements({row}.fields) f WHERE f ->> 'decision' <> 'structure'
    UNION SELECT {row}.id, 'd', f ->> 'decision'
        FROM json_array_elements({row}.fields) f WHERE f ->> 'decision' <> 'structure'
    UNION SELECT {row}.id, 'g', f ->> 'basis'
        FROM json_array_elements({row}.fields) f WHERE f ->> 'basis' LIKE '%grant:%'
    """


def _postgresql_upgrade(bind: Connection, prefix: str) -> None:
    owner, writer, retention, auditor = (
        f"{prefix}_{role}" for role in ("owner", "writer", "retention", "auditor")
    )
    schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
    run = bind.exec_driver_sql
    run(
        f"""CREATE FUNCTION "{schema}".audit_facets_inserted() RETURNS trigger LANGUAGE plpgsql
        SECURITY DEFINER SET search_path = pg_catalog, "{schema}" AS $$
        BEGIN
            INSERT INTO audit_facets (record_id, facet, value) {_postgresql_facets("NEW")};
            RETURN NULL;
        END $$"""
    )
    run(
        f"""CREATE FUNCTION "{schema}".audit_facets_removed() RETURNS trigger LANGUAGE plpgsql
        SECURITY DEFINER SET search_path = pg_catalog, "{schema}" AS $$
        BEGIN
            DELETE FROM audit_facets WHERE record_id = OLD.id;
            RETURN NULL;
        END $$"""
    )
    run(
        "INSERT INTO audit_facets (record_id, facet, value) "
        f"SELECT facet.* FROM audit_records a, LATERAL ({_postgresql_facets('a')}) facet"
    )
    run(
        f'CREATE TRIGGER audit_records_facets AFTER INSERT ON "{schema}".audit_records '
        f'FOR EACH ROW EXECUTE FUNCTION "{schema}".audit_facets_inserted()'
    )
    run(
        f'CREATE TRIGGER audit_records_facets_removed AFTER DELETE ON "{schema}".audit_records '
        f'FOR EACH ROW EXECUTE FUNCTION "{schema}".audit_facets_removed()'
    )
    run(f'ALTER TABLE "{schema}".audit_facets OWNER TO "{owner}"')
    run(f'REVOKE ALL ON "{schema}".audit_facets FROM PUBLIC')
    for function in ("audit_facets_inserted()", "audit_facets_removed()"):
        run(f'ALTER FUNCTION "{schema}".{function} OWNER TO "{owner}"')
        run(f'REVOKE ALL ON FUNCTION "{schema}".{function} FROM PUBLIC')
    run(f'GRANT SELECT ON "{schema}".audit_facets TO "{writer}", "{retention}", "{auditor}"')
