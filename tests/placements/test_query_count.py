"""The import's database work is per batch, not per row (issue #9, "Speed")."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Debt, LedgerEntry
from cases.placements.services import submit_placement_file
from tests.factories import UserFactory
from tests.placements.conftest import row

pytestmark = pytest.mark.django_db


@pytest.fixture
def raw_statements(monkeypatch):
    """Statements sent on psycopg's own cursor (set-based inserts and history
    rows on PostgreSQL), which Django's query capture does not see."""
    import psycopg

    sent = []
    execute = psycopg.Cursor.execute

    def counting(self, query, params=None, **kwargs):
        sent.append(query)
        return execute(self, query, params, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counting)
    return sent


def queries_for(creditor, csv_file, raw_statements, rows: int, start: int) -> int:
    path = csv_file([row(n) for n in range(start, start + rows)])
    actor = UserFactory(username=f"uploader{start}")
    raw_statements.clear()
    with CaptureQueriesContext(connection) as captured:
        placement_file = submit_placement_file(
            creditor=creditor,
            path=path,
            original_name=path.name,
            actor=actor,
            business_date=date(2026, 5, 1),
            background=False,
        ).placement_file
    assert placement_file.loaded == rows, placement_file.error
    return len(captured) + len(raw_statements)


def test_importing_hundreds_of_rows_takes_a_bounded_number_of_queries(creditor, csv_file, raw_statements):
    small = queries_for(creditor, csv_file, raw_statements, 300, 1)
    large = queries_for(creditor, csv_file, raw_statements, 900, 1000)

    # Three times the rows: one batch either way on PostgreSQL (the same
    # queries); SQLite splits long inserts into a few more statements.
    assert large - small <= 10
    assert small < 60
    assert Debt.objects.count() == 1200
    assert LedgerEntry.objects.count() == 3600
