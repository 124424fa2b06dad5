"""On PostgreSQL the database itself refuses UPDATE and DELETE on ledger rows.

The model and its queryset refuse them too; the trigger also stops raw SQL
and other clients. TRUNCATE (used by test flushes) is not a row event.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION ledgerline_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only (% refused on cases_ledgerentry)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER ledger_append_only
    BEFORE UPDATE OR DELETE ON cases_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION ledgerline_ledger_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS ledger_append_only ON cases_ledgerentry;
DROP FUNCTION IF EXISTS ledgerline_ledger_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
