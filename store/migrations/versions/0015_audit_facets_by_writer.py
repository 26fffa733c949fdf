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

Revision ID: 0015
Revises: 0014
"""

from alembic import op

from store.roles import role_prefix

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    run = bind.exec_driver_sql
    if bind.dialect.name == "postgresql":
        schema = run("SELECT current_schema()").scalar_one()
        run(f'DROP TRIGGER audit_records_facets ON "{schema}".audit_records')
        run(f'DROP FUNCTION "{schema}".audit_facets_inserted()')
        run(f'GRANT INSERT ON "{schema}".audit_facets TO "{role_prefix()}_writer"')
        return
    run("DROP TRIGGER audit_records_facets")
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
    if bind.dialect.name == "postgresql":
        schema = run("SELECT current_schema()").scalar_one()
        prefix = role_prefix()
        run(f'REVOKE INSERT ON "{schema}".audit_facets FROM "{prefix}_writer"')
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
