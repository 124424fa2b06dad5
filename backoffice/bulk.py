"""Set-based row updates and history rows for the nightly jobs.

Django's ``bulk_update`` builds one ``CASE WHEN`` per field and row, and
simple-history's ``bulk_history_create`` builds a Python object per row;
both are slow on the tens of thousands of rows a close-of-business chunk
touches. On PostgreSQL, ``update_rows`` sends one ``UPDATE … FROM
unnest(arrays)`` and ``copy_history`` one ``INSERT … SELECT`` that writes
the history rows from the rows just written, in the same transaction (so
the audit trail has no gap). Elsewhere (SQLite in development) they fall
back to the ORM equivalents, which give the same rows.
"""

from django.db import connection
from django.utils import timezone


def update_rows(model, objs, fields: list[str]) -> None:
    """Write ``fields`` of ``objs`` (by primary key). Writes no history."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objs, fields, batch_size=500)
        return
    meta = model._meta
    pk = meta.pk
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in [pk, *columns])
    aliases = ", ".join(quote(f.column) for f in [pk, *columns])
    assignments = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in columns)
    params = [[obj.pk for obj in objs]]
    for field in columns:
        params.append([field.get_db_prep_value(getattr(obj, field.attname), connection) for obj in objs])
    sql = (
        f"UPDATE {table} AS t SET {assignments} FROM unnest({arrays}) AS v({aliases}) "
        f"WHERE t.{quote(pk.column)} = v.{quote(pk.column)}"
    )
    _execute_server_bound(sql, params)


def copy_history(model, objs, *, history_type: str, user, reason: str) -> None:
    """Write one history row per object of ``model`` from its current row.

    ``history_type`` is ``+`` for rows just created and ``~`` for updates.
    """
    if not objs:
        return
    history_model = model.history.model
    if connection.vendor != "postgresql":
        model.history.bulk_history_create(
            objs,
            update=history_type == "~",
            default_user=user,
            default_change_reason=reason,
        )
        return
    quote = connection.ops.quote_name
    tracked = [
        f
        for f in history_model._meta.concrete_fields
        if not f.name.startswith("history_") and f.name != "history_id"
    ]
    target = ", ".join(quote(f.column) for f in tracked)
    source = ", ".join(f"s.{quote(f.column)}" for f in tracked)
    sql = (
        f"INSERT INTO {quote(history_model._meta.db_table)} "
        f"({target}, history_date, history_change_reason, history_type, history_user_id) "
        f"SELECT {source}, %s, %s, %s, %s FROM {quote(model._meta.db_table)} AS s "
        f"WHERE s.{quote(model._meta.pk.column)} = ANY(%s)"
    )
    _execute_server_bound(
        sql, [timezone.now(), reason, history_type, user.pk if user else None, [o.pk for o in objs]]
    )


def _execute_server_bound(sql: str, params: list) -> None:
    """Run ``sql`` with server-side parameter binding.

    Django's default psycopg cursor interpolates parameters on the client,
    which for arrays of tens of thousands of values costs more than the
    statement itself; a plain psycopg cursor sends them as bound arrays.
    """
    import psycopg

    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params)
