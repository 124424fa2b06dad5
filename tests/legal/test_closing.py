"""A matter closes when its debts are paid, settled, withdrawn or uncollectible (RULES §7)."""

from datetime import date

from cases.models import CollectionCase, Debt
from legal.models import LegalMatter
from legal.tasks import close_matters_with_closed_debts


def test_a_matter_whose_debts_are_all_paid_closes_as_paid_and_releases_the_hold(matter, debt):
    Debt.objects.filter(pk=debt.pk).update(status=Debt.Status.PAID)
    assert close_matters_with_closed_debts.delay("2026-04-01").get() == 1
    matter.refresh_from_db()
    assert (matter.stage, matter.outcome, matter.closed_on) == ("closed", "paid", date(2026, 4, 1))
    assert "legal" not in CollectionCase.objects.get(pk=debt.case_id).holds
    assert close_matters_with_closed_debts.delay("2026-04-02").get() == 0


def test_a_written_off_debt_closes_the_matter_as_uncollectible(matter, debt):
    Debt.objects.filter(pk=debt.pk).update(status=Debt.Status.WRITTEN_OFF)
    close_matters_with_closed_debts.delay("2026-04-01").get()
    matter.refresh_from_db()
    assert matter.outcome == LegalMatter.Outcome.UNCOLLECTIBLE


def test_a_matter_with_a_debt_still_owed_stays_open(matter):
    assert close_matters_with_closed_debts.delay("2026-04-01").get() == 0
    matter.refresh_from_db()
    assert matter.stage == "demand_letter"
