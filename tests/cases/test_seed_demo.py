"""``manage.py seed_demo``: a demo book with every bucket and status whose
cached balances agree with the ledger."""

from collections import defaultdict
from datetime import date
from decimal import Decimal
from io import StringIO

import phonenumbers
import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import transaction

from cases.models import BALANCE_FIELD, CollectionCase, Debt, Instalment, LedgerEntry, Payment
from customers.models import ContactPoint, Customer, ThirdPartyContact

# The marker also tells pytest-django to create the test database before the
# module-wide fixture below runs.
pytestmark = [pytest.mark.django_db, pytest.mark.slow]

BUSINESS_DATE = date(2026, 4, 30)
# The demo's placement file (``cases.placements.demo``) adds accounts placed
# on the business date itself: not yet closed by a close of business, and
# assigned by the auto-assignment that runs once the demo commits.
PLACED_BY_FILE = "DEMO-PL-"
# Tests run with DEBUG=False; the guard against seeding production is tested
# in tests/security/test_seed_demo_guard.py.
NOT_PRODUCTION = "--i-know-this-is-not-production"


def portfolio_debts():
    return Debt.objects.exclude(account_number__startswith=PLACED_BY_FILE)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """Seed once for the module (it takes a few seconds); rolled back after."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        call_command(
            "seed_demo", NOT_PRODUCTION, customers=60, business_date=BUSINESS_DATE, stdout=out, verbosity=0
        )
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def db_access(demo, db):
    return demo


def test_every_bucket_appears(db_access):
    buckets = set(Debt.objects.values_list("bucket", flat=True))
    assert buckets >= {"current", "M1", "M2", "M3", "M4", "M5", "M6", "M6+"}


def test_every_status_appears(db_access):
    statuses = set(Debt.objects.values_list("status", flat=True))
    assert statuses == set(Debt.Status.values)


def test_buckets_agree_with_days_past_due(db_access):
    for debt in portfolio_debts().filter(status__in=Debt.ACTIVE_STATUSES).select_related("product__policy"):
        assert debt.closed_through == BUSINESS_DATE
        assert debt.bucket == debt.product.policy.bucket_for(debt.days_past_due)
    assert not Debt.objects.filter(status=Debt.Status.OPEN, days_past_due__gte=180).exists()
    assert not Debt.objects.filter(status=Debt.Status.CHARGED_OFF, charged_off_on__isnull=True).exists()


def test_debt_balances_equal_ledger_sums(db_access):
    # Summed in Python: SQLite's SUM over decimals goes through floats.
    sums = defaultdict(lambda: Decimal("0.00"))
    for debt_id, component, amount in LedgerEntry.objects.values_list("debt_id", "component", "amount"):
        sums[(debt_id, component)] += amount
    debts = list(Debt.objects.all())
    assert debts
    for debt in debts:
        for component, field in BALANCE_FIELD.items():
            assert getattr(debt, field) == sums[(debt.pk, component)], (debt.account_number, component)


def test_instalment_balances_equal_ledger_sums(db_access):
    sums = defaultdict(lambda: Decimal("0.00"))
    entries = LedgerEntry.objects.filter(instalment__isnull=False)
    for inst_id, component, amount in entries.values_list("instalment_id", "component", "amount"):
        sums[(inst_id, component)] += amount
    for inst in Instalment.objects.all():
        assert inst.principal_balance == sums[(inst.pk, "principal")]
        assert inst.interest_balance == sums[(inst.pk, "interest")]


def test_closed_debts_owe_nothing_and_say_how_they_closed(db_access):
    for status, kind in (("settled", "waiver"), ("written_off", "write_off"), ("recalled", "write_off")):
        debts = Debt.objects.filter(status=status)
        assert debts.exists()
        for debt in debts:
            assert debt.total_balance == 0
            assert debt.ledger_entries.filter(kind=kind).exists()
    for debt in Debt.objects.filter(status="paid"):
        assert debt.total_balance == 0


def test_payments_include_partial_ones(db_access):
    assert Payment.objects.count() > 0
    partial = [p for p in Payment.objects.select_related("debt") if p.debt.status in Debt.ACTIVE_STATUSES]
    assert partial


def test_customers_mix_jurisdictions_with_valid_phones(db_access):
    placed = Debt.objects.filter(account_number__startswith=PLACED_BY_FILE).values("customer")
    assert placed.exists()
    assert Customer.objects.exclude(pk__in=placed).count() == 60
    assert (
        Customer.objects.filter(jurisdiction="CN").count()
        > Customer.objects.filter(jurisdiction="US").count()
        > 0
    )
    phones = list(ContactPoint.objects.filter(kind="phone").values_list("value", flat=True))
    phones += list(ThirdPartyContact.objects.exclude(phone="").values_list("phone", flat=True))
    assert phones
    for value in phones:
        assert phonenumbers.is_valid_number(phonenumbers.parse(value)), value
    assert ContactPoint.objects.filter(kind="email").exists()
    assert ContactPoint.objects.filter(kind="address").exists()


def test_open_cases_are_assigned_to_the_demo_collectors(db_access):
    open_cases = CollectionCase.objects.exclude(stage=CollectionCase.Stage.CLOSED).exclude(
        debts__account_number__startswith=PLACED_BY_FILE
    )
    assert open_cases.exists()
    assert set(open_cases.values_list("assigned_to__username", flat=True)) == {"collector", "collector2"}
    history = CollectionCase.history.filter(history_change_reason="demo assignment")
    assert history.exists()


def test_demo_users_log_in_with_their_role(db_access):
    for username, group in (
        ("collector", "Collector"),
        ("teamlead", "Team lead"),
        ("supervisor", "Supervisor"),
    ):
        user = authenticate(username=username, password="ledgerline-demo")
        assert user is not None and user.is_staff
        assert user.groups.filter(name=group).exists()
    admin = authenticate(username="admin", password="ledgerline-demo")
    assert admin.is_superuser


def test_prints_the_logins(demo):
    assert "collector" in demo and "ledgerline-demo" in demo


def test_second_run_says_so_and_adds_nothing(db_access):
    debts = Debt.objects.count()
    out = StringIO()
    call_command(
        "seed_demo", NOT_PRODUCTION, customers=60, business_date=BUSINESS_DATE, stdout=out, verbosity=0
    )
    assert "already exists" in out.getvalue()
    assert Debt.objects.count() == debts
