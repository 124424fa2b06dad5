"""The suspense queue: matching a line by hand, returning it."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from backoffice import roles
from backoffice.errors import Conflict
from cases.models import LedgerEntry, Payment
from cases.statements.models import StatementFile, StatementLine
from cases.statements.selectors import reconciliation
from cases.statements.services import import_statement, match_line, return_line
from tests.factories import UserFactory, make_debt
from tests.statements.conftest import BUSINESS_DATE
from tests.statements.factories import StatementSourceFactory, line, write_csv

pytestmark = pytest.mark.django_db

AT = timezone.make_aware(datetime(2026, 3, 20, 10, 0))


@pytest.fixture
def role_user(db):
    call_command("setup_roles", verbosity=0)

    def make(role):
        user = UserFactory()
        user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def statement(tmp_path, actor):
    make_debt(account_number="KNOWN-1")
    path = write_csv(
        tmp_path / "s.csv",
        [
            line("S1", "2026-01-15", "300.00", account="WHO-KNOWS", payer="赵六"),
            line("S2", "2026-01-15", "20.00", memo="no idea"),
            line("P1", "2026-01-15", "10.00", account="KNOWN-1"),
        ],
    )
    return import_statement(
        path=path, source=StatementSourceFactory(), actor=actor, business_date=BUSINESS_DATE
    ).file


def suspense(statement, txn):
    return statement.lines.get(transaction_id=txn)


def test_a_supervisor_matches_a_suspense_line_and_it_posts_with_who_and_why(statement, role_user):
    supervisor = role_user(roles.SUPERVISOR)
    debt = make_debt()

    matched = match_line(
        line=suspense(statement, "S1"),
        debt=debt,
        actor=supervisor,
        reason="payer called: typo in account number",
        business_date=BUSINESS_DATE,
        at=AT,
    )

    assert matched.status == StatementLine.Status.MATCHED
    assert (matched.matched_by, matched.matched_at) == (supervisor, AT)
    assert matched.match_reason == "payer called: typo in account number"
    assert matched.payment.reference == f"{statement.source.code}:S1"
    assert matched.payment.created_by == supervisor
    debt.refresh_from_db()
    assert debt.principal_balance == Decimal("2700.00")
    assert matched.history.first().history_user == supervisor
    rec = reconciliation(statement)
    assert rec.now["matched"].count == 1 and rec.now["suspense"].count == 1
    assert rec.balanced_at_import and rec.balanced_now


def test_returning_the_last_suspense_line_reconciles_the_file(statement, role_user):
    supervisor = role_user(roles.SUPERVISOR)
    match_line(
        line=suspense(statement, "S1"),
        debt=make_debt(),
        actor=supervisor,
        reason="r",
        business_date=BUSINESS_DATE,
    )
    statement.refresh_from_db()
    assert statement.status == StatementFile.Status.OPEN

    returned = return_line(
        line=suspense(statement, "S2"), actor=supervisor, reason="sent back to payer", at=AT
    )

    assert returned.status == StatementLine.Status.REJECTED
    assert returned.reason == "Returned from suspense: sent back to payer"
    assert (returned.matched_by, returned.match_reason) == (supervisor, "sent back to payer")
    statement.refresh_from_db()
    assert statement.status == StatementFile.Status.RECONCILED
    assert reconciliation(statement).balanced_now


def test_a_line_no_longer_in_suspense_cannot_be_matched_again(statement, role_user):
    supervisor = role_user(roles.SUPERVISOR)
    line_ = suspense(statement, "S1")
    match_line(line=line_, debt=make_debt(), actor=supervisor, reason="r", business_date=BUSINESS_DATE)
    payments = Payment.objects.count()

    with pytest.raises(Conflict):
        match_line(
            line=line_, debt=make_debt(), actor=supervisor, reason="again", business_date=BUSINESS_DATE
        )
    with pytest.raises(Conflict):
        match_line(
            line=suspense(statement, "P1"),
            debt=make_debt(),
            actor=supervisor,
            reason="x",
            business_date=BUSINESS_DATE,
        )

    assert Payment.objects.count() == payments


def test_a_refused_posting_leaves_the_line_in_suspense(statement, role_user):
    supervisor = role_user(roles.SUPERVISOR)
    late = make_debt(opened_on=date(2026, 2, 1))  # the money predates this account

    with pytest.raises(ValidationError, match="cannot predate the account"):
        match_line(
            line=suspense(statement, "S1"),
            debt=late,
            actor=supervisor,
            reason="r",
            business_date=BUSINESS_DATE,
        )

    assert suspense(statement, "S1").status == StatementLine.Status.SUSPENSE
    assert not late.payments.exists()


def test_a_reason_is_required(statement, role_user):
    with pytest.raises(ValidationError, match="Say why"):
        return_line(line=suspense(statement, "S1"), actor=role_user(roles.SUPERVISOR), reason="  ")


@pytest.mark.parametrize(
    "role", [roles.COLLECTOR, roles.TEAM_LEAD, roles.LEGAL, roles.COMPLIANCE, roles.AGENCY]
)
def test_other_roles_may_not_work_the_queue_and_nothing_is_written(statement, role_user, role):
    user = role_user(role)
    line_ = suspense(statement, "S1")
    debt = make_debt()
    before = (Payment.objects.count(), LedgerEntry.objects.count(), StatementLine.history.count())

    with pytest.raises(PermissionDenied):
        match_line(line=line_, debt=debt, actor=user, reason="mine", business_date=BUSINESS_DATE)
    with pytest.raises(PermissionDenied):
        return_line(line=line_, actor=user, reason="mine")

    line_.refresh_from_db()
    assert line_.status == StatementLine.Status.SUSPENSE and line_.matched_by is None
    assert (Payment.objects.count(), LedgerEntry.objects.count(), StatementLine.history.count()) == before


def test_an_administrator_may_work_the_queue(statement, role_user):
    admin = role_user(roles.ADMINISTRATOR)
    returned = return_line(line=suspense(statement, "S2"), actor=admin, reason="not ours")
    assert returned.status == StatementLine.Status.REJECTED
