"""Set-based row updates.

Django's ``bulk_update`` builds one ``CASE WHEN`` per field and row, which
is slow on the tens of thousands of rows the close of business touches per
chunk. On PostgreSQL ``update_rows`` sends a single
``UPDATE … FROM (VALUES …)``; elsewhere (SQLite in development) it falls back
to ``bulk_update``. It writes no history: callers write the history rows
for audited fields in the same transaction.
"""

from django.db import connection


def update_rows(model, objs, fields: list[str], batch_size: int = 5000) -> None:
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objs, fields, batch_size=1000)
        return
    meta = model._meta
    pk = meta.pk
    columns = [meta.get_field(name) for name in fields]
    table = connection.ops.quote_name(meta.db_table)
    aliases = ", ".join(connection.ops.quote_name(f.column) for f in [pk, *columns])
    assignments = ", ".join(
        f"{connection.ops.quote_name(f.column)} = v.{connection.ops.quote_name(f.column)}::{f.db_type(connection)}"
        for f in columns
    )
    for start in range(0, len(objs), batch_size):
        batch = objs[start : start + batch_size]
        row_sql = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
        # The first row carries explicit casts so PostgreSQL types the VALUES list.
        first = "(" + ", ".join(f"%s::{f.db_type(connection)}" for f in [pk, *columns]) + ")"
        values_sql = ", ".join([first] + [row_sql] * (len(batch) - 1))
        params = []
        for obj in batch:
            params.append(obj.pk)
            for field in columns:
                params.append(field.get_db_prep_value(getattr(obj, field.attname), connection))
        sql = (
            f"UPDATE {table} AS t SET {assignments} FROM (VALUES {values_sql}) AS v({aliases}) "
            f"WHERE t.{connection.ops.quote_name(pk.column)} = v.{connection.ops.quote_name(pk.column)}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
