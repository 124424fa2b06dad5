"""Inserting many new rows in one statement, with their ids back.

Django's ``bulk_create`` on PostgreSQL already inserts through ``UNNEST``,
but it needs a model instance per row (``Model.__init__`` and its signals)
and its cursor binds parameters on the client: arrays of thousands of
values are quoted into the SQL text in Python. On a 100,000-row placement
file both cost more than the inserts themselves. ``insert_rows`` takes plain
dicts (attname → value; other fields get their defaults), sends one
``INSERT … SELECT FROM unnest(arrays) RETURNING id`` with server-side
binding (like ``backoffice.bulk``), and returns objects carrying ``pk``, which
is all ``backoffice.bulk.copy_history`` needs there. Elsewhere (SQLite in
development) it builds instances and calls ``bulk_create``, whose objects
``copy_history``'s fallback uses. No signal is sent: callers write history.
"""

import json
from types import SimpleNamespace

from django.db import connection, models
from django.utils import timezone


def as_row(obj) -> dict:
    """An unsaved instance as ``insert_rows`` input."""
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields if not f.primary_key}


def insert_rows(model, rows: list[dict]) -> list:
    if not rows:
        return []
    now = timezone.now()
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    columns_values = []
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            columns_values.append([now] * len(rows))
            continue
        if field.attname in rows[0]:
            columns_values.append([row[field.attname] for row in rows])
            continue
        # The model's default ("" for text without one, None for nullable fields).
        columns_values.append([field.get_default()] * len(rows))
    if connection.vendor != "postgresql":
        objs = [
            model(**{f.attname: values[i] for f, values in zip(fields, columns_values, strict=True)})
            for i in range(len(rows))
        ]
        return model.objects.bulk_create(objs, batch_size=2000)
    import psycopg

    quote = connection.ops.quote_name
    columns, arrays, selects, params = [], [], [], []
    for field, values in zip(fields, columns_values, strict=True):
        column = quote(field.column)
        if isinstance(field, models.JSONField):
            values = [None if value is None else json.dumps(value) for value in values]
            arrays.append("%b::text[]")
            selects.append(f"v.{column}::jsonb")
        else:
            # ``varchar`` not ``varchar(40)``: the table's own type checks length.
            arrays.append(f"%b::{field.db_type(connection).split('(')[0]}[]")
            selects.append(f"v.{column}")
        columns.append(column)
        params.append(values)
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(selects)} FROM unnest({', '.join(arrays)}) AS v({', '.join(columns)}) "
        f"RETURNING {quote(meta.pk.column)}"
    )
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        # ``%b``: arrays are sent in binary, without per-element quoting.
        cursor.execute(sql, params)
        return [SimpleNamespace(pk=row[0]) for row in cursor.fetchall()]
