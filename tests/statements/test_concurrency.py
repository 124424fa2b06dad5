"""Two imports of overlapping statements at the same moment post each line
once (post_payment locks the debt; the live-transaction constraint keeps one
suspense line). PostgreSQL only, like tests/cases/test_concurrency.py."""

from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings

from backoffice.audit import system_user
from cases.models import Payment
from cases.selectors import ledger_mismatches
from cases.statements.models import StatementLine
from cases.statements.services import import_statement
from tests.cases.test_concurrency import run_together
from tests.factories import make_debt
from tests.statements.factories import StatementSourceFactory, line, write_csv

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="concurrent transactions need PostgreSQL (set DATABASE_URL=postgres://…)",
    ),
]


def test_two_overlapping_statements_imported_at_once_post_each_line_once(tmp_path):
    debts = [make_debt(account_number=f"RACE-{n}") for n in range(4)]
    source = StatementSourceFactory()
    actor = system_user()
    shared = [line(f"T{n}", "2026-01-15", "100.00", account=f"RACE-{n}") for n in range(4)]
    shared.append(line("S1", "2026-01-15", "9.99", account="NOBODY"))
    first = write_csv(tmp_path / "a.csv", [*shared, line("A1", "2026-01-15", "1.00", account="RACE-0")])
    second = write_csv(
        tmp_path / "b.csv", [line("B1", "2026-01-15", "2.00", account="RACE-3"), *reversed(shared)]
    )

    results = run_together(
        lambda: import_statement(path=first, source=source, actor=actor, business_date=date(2026, 3, 20)),
        lambda: import_statement(path=second, source=source, actor=actor, business_date=date(2026, 3, 20)),
    )

    files = [result.file for result in results]
    assert Payment.objects.filter(reference__startswith=f"{source.code}:T").count() == 4
    assert Payment.objects.filter(reference__startswith=f"{source.code}:").count() == 6
    assert StatementLine.objects.filter(transaction_id="S1", status="suspense").count() == 1
    # Each shared line is posted (or in suspense) in one file and already imported in the other.
    assert sum(f.already_posted_count for f in files) == 5
    for statement in files:
        statement.refresh_from_db()
        assert (
            statement.line_count
            == statement.posted_count + statement.suspense_count + statement.rejected_count
        )
    totals = {debt.pk: debt for debt in debts}
    for debt in totals.values():
        debt.refresh_from_db()
    assert [d.principal_balance for d in debts] == [
        Decimal("2899.00"),
        Decimal("2900.00"),
        Decimal("2900.00"),
        Decimal("2898.00"),
    ]
    assert not list(ledger_mismatches())
