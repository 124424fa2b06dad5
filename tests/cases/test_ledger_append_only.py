"""The ledger is append-only and verify_ledger proves the caches."""

from datetime import date
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from cases.models import Debt, LedgerEntry
from cases.services import post_payment
from tests.factories import make_debt

pytestmark = pytest.mark.django_db


def test_saving_an_existing_entry_is_refused():
    entry = make_debt().ledger_entries.first()
    entry.amount = entry.amount + 1
    with pytest.raises(ValidationError):
        entry.save()


def test_deleting_an_entry_is_refused():
    entry = make_debt().ledger_entries.first()
    with pytest.raises(ValidationError):
        entry.delete()
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


def test_queryset_update_and_delete_are_refused():
    make_debt()
    with pytest.raises(ValidationError):
        LedgerEntry.objects.all().update(amount=1)
    with pytest.raises(ValidationError):
        LedgerEntry.objects.all().delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only")
def test_database_trigger_refuses_raw_updates_and_deletes():
    entry = make_debt().ledger_entries.first()
    for sql in (
        "UPDATE cases_ledgerentry SET amount = amount + 1 WHERE id = %s",
        "DELETE FROM cases_ledgerentry WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    assert LedgerEntry.objects.get(pk=entry.pk).amount == entry.amount


def test_verify_ledger_passes_on_a_consistent_ledger():
    debt = make_debt()
    post_payment(debt=debt, amount="100.00", received_on=date(2026, 1, 5), reference="V1")
    out = StringIO()
    call_command("verify_ledger", stdout=out)
    assert "no mismatches" in out.getvalue()


def test_verify_ledger_names_a_tampered_balance_and_fails():
    debt = make_debt()
    Debt.objects.filter(pk=debt.pk).update(principal_balance="2999.00")
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_ledger", stdout=out)
    assert f"debt {debt.pk}" in out.getvalue()
    assert "principal" in out.getvalue()
