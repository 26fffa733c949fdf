"""The writer files a record's facets itself, in the statement that appends it; the
per-row trigger of 0013 that parsed every record's JSON again is gone.

bench/audit_cost.py measured the trigger (and 0013's indexes) taking the log-on
throughput to 0.70-0.89 of log-off where the target is 0.85: the JSON each record
already was in the writer's hands was parsed back in the database, five times over.
The writer now computes the facets in Python (`audit.facets`) and inserts them with
the record in one statement (`audit.insert`):

- PostgreSQL: a data-modifying WITH, the facets as three arrays. The writer role gets
  INSERT (no UPDATE, no DELETE) on `audit_facets`.
- SQLite: the view `audit_appends` (the log's columns and `facets`, a JSON array of
  facet-and-value strings) whose INSTEAD OF trigger inserts the record and then its
  facets under the record's id (found by its chain and seq). A column added to the
  log later needs the view and its trigger made again.

What that means for integrity: the facets are an index, not evidence. A writer could
file a false facet for a record or leave one out (never change a stored one); the
records themselves stay chained and append-only as before, and `audit verify`
recomputes every record's facets from the chained record and names the first record
whose facets differ (`FacetsDiffer`).

The removal trigger of 0013 (facets go with a record removed past retention) stays.

Fewer b-trees per record too: `audit_facets` is keyed by (record_id, facet, value)
(WITHOUT ROWID on SQLite), so a record's facets append at the end of the key and the
value index is the only other one written; the record-id index goes. The filters on
columns most records leave empty (person, purpose reference, document id) get partial
indexes over the records that hold a value: an equality filter implies one.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

from store.roles import role_prefix

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


PARTIAL = {
    "ix_audit_records_person": "person",
    "ix_audit_records_reference": "purpose_reference",
    "ix_audit_records_document": "document_id",
}


def _indexes(partial: bool) -> None:
    for name, column in PARTIAL.items():
        op.drop_index(name, "audit_records")
        held = sa.text(f"{column} IS NOT NULL") if partial else None
        op.create_index(
            name,
            "audit_records",
            [column, "occurred_at"],
            sqlite_where=held,
            postgresql_where=held,
        )


def _sqlite_facets_table(keyed: bool) -> None:
    """Make audit_facets again, keyed by record or not, with what it holds."""
    run = op.get_bind().exec_driver_sql
    run("DROP TRIGGER audit_records_facets_removed")
    key = ", PRIMARY KEY (record_id, facet, value)) WITHOUT ROWID" if keyed else ")"
    run(
        "CREATE TABLE audit_facets_made (record_id BIGINT NOT NULL, facet VARCHAR(1) NOT NULL,"
        f" value TEXT NOT NULL{key}"
    )
    run("INSERT INTO audit_facets_made SELECT record_id, facet, value FROM audit_facets")
    run("DROP TABLE audit_facets")
    run("ALTER TABLE audit_facets_made RENAME TO audit_facets")
    run("CREATE INDEX ix_audit_facets_value ON audit_facets (facet, value, record_id)")
    if not keyed:
        run("CREATE INDEX ix_audit_facets_record ON audit_facets (record_id)")
    run(
        """CREATE TRIGGER audit_records_facets_removed AFTER DELETE ON audit_records
        BEGIN
            DELETE FROM audit_facets WHERE record_id = OLD.id;
        END"""
    )


def upgrade() -> None:
    bind = op.get_bind()
    run = bind.exec_driver_sql
    _indexes(partial=True)
    if bind.dialect.name == "postgresql":
        schema = run("SELECT current_schema()").scalar_one()
        run(f'DROP TRIGGER audit_records_facets ON "{schema}".audit_records')
        run(f'DROP FUNCTION "{schema}".audit_facets_inserted()')
        run(f'ALTER TABLE "{schema}".audit_facets ADD PRIMARY KEY (record_id, facet, value)')
        run(f'DROP INDEX "{schema}".ix_audit_facets_record')
        run(f'GRANT INSERT ON "{schema}".audit_facets TO "{role_prefix()}_writer"')
        return
    run("DROP TRIGGER audit_records_facets")
    _sqlite_facets_table(keyed=True)
    columns = [
        name
        for (name,) in run("SELECT name FROM pragma_table_info('audit_records') ORDER BY cid")
        if name != "id"
    ]
    listed = ", ".join(columns)
    run(f"CREATE VIEW audit_appends AS SELECT {listed}, NULL AS facets FROM audit_records WHERE 0")
    new = ", ".join(f"NEW.{name}" for name in columns)
    run(
        f"""CREATE TRIGGER audit_appends_insert INSTEAD OF INSERT ON audit_appends
        BEGIN
            INSERT INTO audit_records ({listed}) VALUES ({new});
            INSERT INTO audit_facets (record_id, facet, value)
                SELECT r.id, substr(f.value, 1, 1), substr(f.value, 2)
                FROM audit_records r, json_each(NEW.facets) f
                WHERE r.chain_id = NEW.chain_id AND r.seq = NEW.seq;
        END"""
    )


def downgrade() -> None:
    """Back to 0013's trigger; the facets filed meanwhile stay (they are the same)."""
    bind = op.get_bind()
    run = bind.exec_driver_sql
    _indexes(partial=False)
    if bind.dialect.name == "postgresql":
        schema = run("SELECT current_schema()").scalar_one()
        prefix = role_prefix()
        run(f'REVOKE INSERT ON "{schema}".audit_facets FROM "{prefix}_writer"')
        run(f'ALTER TABLE "{schema}".audit_facets DROP CONSTRAINT audit_facets_pkey')
        run(f'CREATE INDEX ix_audit_facets_record ON "{schema}".audit_facets (record_id)')
        run(
            f"""CREATE FUNCTION "{schema}".audit_facets_inserted() RETURNS trigger
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, "{schema}" AS $$
            BEGIN
                INSERT INTO audit_facets (record_id, facet, value) {_POSTGRESQL_FACETS};
                RETURN NULL;
            END $$"""
        )
        run(f'ALTER FUNCTION "{schema}".audit_facets_inserted() OWNER TO "{prefix}_owner"')
        run(f'REVOKE ALL ON FUNCTION "{schema}".audit_facets_inserted() FROM PUBLIC')
        run(
            f'CREATE TRIGGER audit_records_facets AFTER INSERT ON "{schema}".audit_records '
            f'FOR EACH ROW EXECUTE FUNCTION "{schema}".audit_facets_inserted()'
        )
        return
    run("DROP TRIGGER audit_appends_insert")
    run("DROP VIEW audit_appends")
    _sqlite_facets_table(keyed=False)
    run(
        f"""CREATE TRIGGER audit_records_facets AFTER INSERT ON audit_records
        BEGIN
            INSERT INTO audit_facets (record_id, facet, value) {_SQLITE_FACETS};
        END"""
    )


# 0013's trigger bodies, as they were: a migration does not import another.
_PATH = "json_extract(f.value, '$.path')"
_SQLITE_FACETS = f"""
    SELECT NEW.id, 's', s.value
        FROM json_each(NEW.records) r, json_each(r.value, '$.subjects') s
    UNION SELECT NEW.id, 'r', r.key FROM json_each(NEW.records) r
    UNION SELECT NEW.id, 'i', replace({_PATH}, rtrim({_PATH}, replace({_PATH}, '.', '')), '')
        FROM json_each(NEW.fields) f WHERE json_extract(f.value, '$.decision') <> 'structure'
    UNION SELECT NEW.id, 'd', json_extract(f.value, '$.decision') FROM json_each(NEW.fields) f
        WHERE json_extract(f.value, '$.decision') <> 'structure'
    UNION SELECT NEW.id, 'g', json_extract(f.value, '$.basis') FROM json_each(NEW.fields) f
        WHERE json_extract(f.value, '$.basis') LIKE '%grant:%'
"""
_POSTGRESQL_FACETS = """
    SELECT NEW.id, 's', s FROM json_each(NEW.records) r,
        json_array_elements_text(r.value -> 'subjects') s
    UNION SELECT NEW.id, 'r', r FROM json_object_keys(NEW.records) r
    UNION SELECT NEW.id, 'i', regexp_replace(f ->> 'path', '^.*[.]', '')
        FROM json_array_elements(NEW.fields) f WHERE f ->> 'decision' <> 'structure'
    UNION SELECT NEW.id, 'd', f ->> 'decision'
        FROM json_array_elements(NEW.fields) f WHERE f ->> 'decision' <> 'structure'
    UNION SELECT NEW.id, 'g', f ->> 'basis'
        FROM json_array_elements(NEW.fields) f WHERE f ->> 'basis' LIKE '%grant:%'
"""
