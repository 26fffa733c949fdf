"""Audit records are append-only; on PostgreSQL, separate roles for owner, writer,
retention and auditor.

PostgreSQL (role names `<prefix>_…`, prefix from settings `audit_role_prefix`):

    <prefix>_owner      owns the audit tables and functions; nobody should log in as it
    <prefix>_writer     INSERT and SELECT on audit_records (and its id sequence); the
                        server's login role is made a member of this role only
    <prefix>_retention  reads the log, writes export markers, and removes exported
                        records past retention only through audit_remove_exported()
    <prefix>_auditor    reads the log (a separate audit administrator, level 3)

A trigger refuses UPDATE, DELETE and TRUNCATE for everyone, owner and superusers
included, except DELETE inside audit_remove_exported(), which first requires an
export marker naming exactly the rows it removes and refuses rows younger than 180
days. Only the owner (or a superuser) can disable the trigger, so a writer cannot.
The roles are NOLOGIN: grant them to login roles (`GRANT <prefix>_writer TO app`).

SQLite has no roles: triggers refuse UPDATE, and DELETE of a record that no export
marker covers or that is younger than 180 days. A batch migration that recreates
audit_records drops these triggers: create them again (a test checks they exist).

Revision ID: 0003
Revises: 0002
"""

from alembic import op
from sqlalchemy.engine import Connection

from audit.lock import LOCK_KEY
from store.roles import role_prefix

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ROLES = ("owner", "writer", "retention", "auditor")
FLOOR_DAYS = 180
TABLES = ("audit_records", "audit_exports", "audit_chain")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _postgresql_upgrade(bind, role_prefix())
    elif bind.dialect.name == "sqlite":
        for statement in _SQLITE_TRIGGERS:
            bind.exec_driver_sql(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _postgresql_downgrade(bind, role_prefix())
    elif bind.dialect.name == "sqlite":
        for name in _SQLITE_TRIGGER_NAMES:
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")


_SQLITE_TRIGGER_NAMES = (
    "audit_records_no_update",
    "audit_records_no_delete",
    "audit_exports_no_update",
    "audit_exports_no_delete",
    "audit_chain_no_update",
    "audit_chain_no_delete",
)
_SQLITE_TRIGGERS = (
    """CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
    BEGIN SELECT RAISE(ABORT, 'audit records are append-only: UPDATE refused'); END""",
    f"""CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
    WHEN NOT EXISTS (
        SELECT 1 FROM audit_exports e
        WHERE e.chain_id = OLD.chain_id AND OLD.seq BETWEEN e.from_seq AND e.to_seq
    ) OR OLD.occurred_at >= datetime('now', '-{FLOOR_DAYS} days')
    BEGIN SELECT RAISE(ABORT,
        'audit records are append-only: only exported records past retention are removed');
    END""",
    """CREATE TRIGGER audit_exports_no_update BEFORE UPDATE ON audit_exports
    BEGIN SELECT RAISE(ABORT, 'export markers are append-only'); END""",
    """CREATE TRIGGER audit_exports_no_delete BEFORE DELETE ON audit_exports
    BEGIN SELECT RAISE(ABORT, 'export markers are append-only'); END""",
    """CREATE TRIGGER audit_chain_no_update BEFORE UPDATE ON audit_chain
    BEGIN SELECT RAISE(ABORT, 'the audit chain is fixed'); END""",
    """CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain
    BEGIN SELECT RAISE(ABORT, 'the audit chain is fixed'); END""",
)


def _postgresql_upgrade(bind: Connection, prefix: str) -> None:
    owner, writer, retention, auditor = (f"{prefix}_{role}" for role in ROLES)
    schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
    run = bind.exec_driver_sql
    for role in (owner, writer, retention, auditor):
        run(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') "
            f'THEN CREATE ROLE "{role}" NOLOGIN; END IF; END $$'
        )
    if not bind.exec_driver_sql(
        "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
    ).scalar():
        run(f'GRANT "{owner}" TO CURRENT_USER')  # needed to hand the tables over below
    records_seq = bind.exec_driver_sql(
        "SELECT pg_get_serial_sequence('audit_records', 'id')"
    ).scalar_one()
    exports_seq = bind.exec_driver_sql(
        "SELECT pg_get_serial_sequence('audit_exports', 'id')"
    ).scalar_one()

    run(_REFUSE_CHANGE.format(schema=schema))
    run(_RECORDS_APPEND_ONLY.format(schema=schema))
    run(_REMOVE_EXPORTED.format(schema=schema, lock_key=LOCK_KEY, floor_days=FLOOR_DAYS))
    for table in TABLES:
        row_function = (
            "audit_records_append_only" if table == "audit_records" else "audit_refuse_change"
        )
        run(
            f'CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON "{schema}".{table} '
            f'FOR EACH ROW EXECUTE FUNCTION "{schema}".{row_function}()'
        )
        run(
            f'CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON "{schema}".{table} '
            f'FOR EACH STATEMENT EXECUTE FUNCTION "{schema}".audit_refuse_change()'
        )
        run(f'ALTER TABLE "{schema}".{table} OWNER TO "{owner}"')
        run(f'REVOKE ALL ON "{schema}".{table} FROM PUBLIC')
    for function in (
        "audit_refuse_change()",
        "audit_records_append_only()",
        "audit_remove_exported(bigint)",
    ):
        run(f'ALTER FUNCTION "{schema}".{function} OWNER TO "{owner}"')
    run(f'REVOKE ALL ON FUNCTION "{schema}".audit_remove_exported(bigint) FROM PUBLIC')

    run(f'GRANT USAGE ON SCHEMA "{schema}" TO "{writer}", "{retention}", "{auditor}"')
    run(f'GRANT SELECT, INSERT ON "{schema}".audit_records TO "{writer}"')
    run(f'GRANT USAGE ON SEQUENCE {records_seq} TO "{writer}"')
    run(f'GRANT SELECT ON "{schema}".audit_chain, "{schema}".audit_exports TO "{writer}"')
    run(f'GRANT SELECT ON "{schema}".audit_records, "{schema}".audit_chain TO "{retention}"')
    run(f'GRANT SELECT, INSERT ON "{schema}".audit_exports TO "{retention}"')
    run(f'GRANT USAGE ON SEQUENCE {exports_seq} TO "{retention}"')
    run(f'GRANT EXECUTE ON FUNCTION "{schema}".audit_remove_exported(bigint) TO "{retention}"')
    tables = ", ".join(f'"{schema}".{table}' for table in TABLES)
    run(f'GRANT SELECT ON {tables} TO "{auditor}"')


def _postgresql_downgrade(bind: Connection, prefix: str) -> None:
    """Drop the triggers and functions and hand the tables back; the roles are
    cluster-wide and may serve other databases, so they stay."""
    schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
    run = bind.exec_driver_sql
    for table in TABLES:
        run(f'DROP TRIGGER IF EXISTS {table}_append_only ON "{schema}".{table}')
        run(f'DROP TRIGGER IF EXISTS {table}_no_truncate ON "{schema}".{table}')
        run(f'ALTER TABLE "{schema}".{table} OWNER TO CURRENT_USER')
        for role in ROLES:
            run(f'REVOKE ALL ON "{schema}".{table} FROM "{prefix}_{role}"')
    run(f'DROP FUNCTION IF EXISTS "{schema}".audit_remove_exported(bigint)')
    run(f'DROP FUNCTION IF EXISTS "{schema}".audit_records_append_only()')
    run(f'DROP FUNCTION IF EXISTS "{schema}".audit_refuse_change()')


_REFUSE_CHANGE = """
CREATE FUNCTION "{schema}".audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % refused: the audit log is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$
"""

# The removal flag is a transaction-local setting that only audit_remove_exported()
# sets; anyone could set it, but only the owner and superusers hold DELETE at all,
# and they could disable the trigger anyway: it guards against mistakes, the
# privileges guard against the writer.
_RECORDS_APPEND_ONLY = """
CREATE FUNCTION "{schema}".audit_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    marker text := current_setting('gov_share.audit_removal', true);
BEGIN
    IF TG_OP = 'DELETE' AND coalesce(marker, '') <> '' AND EXISTS (
        SELECT 1 FROM "{schema}".audit_exports e
        WHERE e.id = marker::bigint AND e.chain_id = OLD.chain_id
          AND OLD.seq BETWEEN e.from_seq AND e.to_seq
    ) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit records are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'exported records past retention are removed by audit_remove_exported()';
END $$
"""

_REMOVE_EXPORTED = """
CREATE FUNCTION "{schema}".audit_remove_exported(marker bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, "{schema}" AS $$
DECLARE
    m audit_exports%ROWTYPE;
    removed bigint;
BEGIN
    PERFORM pg_advisory_xact_lock({lock_key});
    SELECT * INTO m FROM audit_exports WHERE id = marker;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no export marker %: export records before removing them', marker
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF EXISTS (SELECT 1 FROM audit_records WHERE chain_id = m.chain_id AND seq < m.from_seq)
       OR NOT EXISTS (SELECT 1 FROM audit_records WHERE chain_id = m.chain_id
                      AND seq = m.from_seq AND prev_hash = m.prev_hash)
       OR NOT EXISTS (SELECT 1 FROM audit_records WHERE chain_id = m.chain_id
                      AND seq = m.to_seq AND record_hash = m.last_hash)
       OR m.record_count <> m.to_seq - m.from_seq + 1
       OR (SELECT count(*) FROM audit_records WHERE chain_id = m.chain_id
           AND seq BETWEEN m.from_seq AND m.to_seq) <> m.record_count
    THEN
        RAISE EXCEPTION 'export marker % does not name the oldest records as stored', marker
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF EXISTS (SELECT 1 FROM audit_records WHERE chain_id = m.chain_id
               AND seq BETWEEN m.from_seq AND m.to_seq
               AND occurred_at >= now() - interval '{floor_days} days') THEN
        RAISE EXCEPTION 'export marker % covers records younger than {floor_days} days', marker
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM set_config('gov_share.audit_removal', marker::text, true);
    DELETE FROM audit_records
        WHERE chain_id = m.chain_id AND seq BETWEEN m.from_seq AND m.to_seq;
    GET DIAGNOSTICS removed = ROW_COUNT;
    PERFORM set_config('gov_share.audit_removal', '', true);
    RETURN removed;
END $$
"""
