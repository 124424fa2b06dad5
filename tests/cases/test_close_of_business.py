"""Close of business: ageing, penalty, late fees, cost cap, charge-off (RULES §1–2)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from cases.models import Debt, LedgerEntry
from cases.services import post_payment, run_close_of_business
from cases.services.close_of_business import close_chunk
from tests.factories import PolicyFactory, ProductFactory, make_debt

pytestmark = pytest.mark.django_db

DUE = date(2026, 1, 31)


def single(**policy):
    """One instalment of 1000.00 principal due 2026-01-31, opened 2026-01-01."""
    return make_debt(instalments=[{"due_on": DUE, "principal": "1000.00", "interest": "0.00"}], **policy)


def close(debt, day):
    close_chunk(first_id=debt.pk, last_id=debt.pk, business_date=day)
    debt.refresh_from_db()
    return debt


def penalties(debt):
    return list(
        debt.ledger_entries.filter(component="penalty")
        .order_by("effective_on")
        .values_list("effective_on", "amount")
    )


def test_hand_computed_day_matches_rules():
    debt = make_debt()
    run_close_of_business(business_date=date(2026, 3, 15))
    debt.refresh_from_db()
    # Oldest unpaid instalment due 2026-01-31: 43 days past due on 15 March.
    assert debt.days_past_due == 43
    assert debt.bucket == "M2"
    # 27 days × 1000 × 0.05 % (4 Feb – 2 Mar) + 13 days × 2000 × 0.05 % (3–15 Mar).
    assert debt.penalty_balance == Decimal("26.50")
    assert debt.interest_balance == Decimal("100.00")
    assert debt.date_of_first_delinquency == date(2026, 2, 1)
    assert debt.delinquent_30_on == date(2026, 3, 2)
    assert debt.closed_through == date(2026, 3, 15)


def test_running_twice_for_the_same_date_changes_nothing():
    debt = make_debt()
    first = run_close_of_business(business_date=date(2026, 3, 15))
    entries = LedgerEntry.objects.count()
    second = run_close_of_business(business_date=date(2026, 3, 15))
    assert first.debts == 1
    assert second.debts == 0 and second.entries == 0
    assert LedgerEntry.objects.count() == entries
    debt.refresh_from_db()
    assert debt.penalty_balance == Decimal("26.50")


def test_catching_up_after_a_gap_gives_the_same_ledger_as_running_daily():
    product = ProductFactory(policy=PolicyFactory(late_fee_fixed=Decimal("30.00"), cost_cap_annual_rate=None))
    daily = make_debt(product=product)
    gap = make_debt(product=product)
    payment_day = date(2026, 2, 20)
    end = date(2026, 4, 20)
    # The gap debt's payment is posted before any close of business ran.
    post_payment(debt=gap, amount="700.00", received_on=payment_day, reference="GAP-1")
    day = daily.opened_on
    while day <= end:
        if day == payment_day:
            post_payment(debt=daily, amount="700.00", received_on=payment_day, reference="DAILY-1")
        close(daily, day)
        day += timedelta(days=1)
    close(gap, end)

    def shape(debt):
        return list(
            debt.ledger_entries.order_by("effective_on", "component", "amount").values_list(
                "effective_on", "component", "kind", "amount"
            )
        )

    assert shape(daily) == shape(gap)
    for field in ("days_past_due", "bucket", "penalty_balance", "fees_balance", "status"):
        assert getattr(daily, field) == getattr(gap, field)


@pytest.mark.parametrize(
    ("dpd", "bucket"),
    [
        (0, "current"),
        (1, "M1"),
        (30, "M1"),
        (31, "M2"),
        (60, "M2"),
        (61, "M3"),
        (90, "M3"),
        (91, "M4"),
        (120, "M4"),
        (121, "M5"),
        (150, "M5"),
        (151, "M6"),
        (180, "M6"),
        (181, "M6+"),
    ],
)
def test_bucket_edges(dpd, bucket):
    debt = single()
    close(debt, DUE + timedelta(days=dpd))
    assert debt.days_past_due == dpd
    assert debt.bucket == bucket


def test_bucket_edges_come_from_the_policy():
    debt = single(bucket_edges=[10, 20])
    close(debt, DUE + timedelta(days=15))
    assert debt.bucket == "M2"
    close(debt, DUE + timedelta(days=21))
    assert debt.bucket == "M2+"


def test_nothing_overdue_on_the_due_date_itself():
    debt = single()
    close(debt, DUE)
    assert debt.days_past_due == 0 and debt.bucket == "current"
    assert debt.date_of_first_delinquency is None


def test_charge_off_at_the_policy_threshold():
    debt = single()
    close(debt, DUE + timedelta(days=179))
    assert debt.status == Debt.Status.OPEN
    close(debt, DUE + timedelta(days=180))
    assert debt.status == Debt.Status.CHARGED_OFF
    assert debt.charged_off_on == DUE + timedelta(days=180)
    # The balance stays collectible and (CN preset) penalty keeps accruing.
    before = debt.penalty_balance
    close(debt, DUE + timedelta(days=181))
    assert debt.penalty_balance == before + Decimal("0.50")


def test_us_preset_stops_accrual_after_charge_off():
    debt = single(jurisdiction="US", currency="USD", penalty_daily_rate=Decimal("0.001"))
    close(debt, DUE + timedelta(days=180))
    at_charge_off = debt.penalty_balance
    close(debt, DUE + timedelta(days=200))
    assert debt.status == Debt.Status.CHARGED_OFF
    assert debt.penalty_balance == at_charge_off


def test_no_penalty_inside_grace_and_no_back_dating():
    debt = single()
    close(debt, DUE + timedelta(days=3))
    assert debt.penalty_balance == 0
    close(debt, DUE + timedelta(days=10))
    # Days 4..10 accrue: 7 × 0.50; days 1..3 never do.
    assert debt.penalty_balance == Decimal("3.50")
    assert penalties(debt)[0][0] == DUE + timedelta(days=4)


def test_one_penalty_entry_per_debt_per_date():
    debt = single()
    close(debt, DUE + timedelta(days=30))
    dates = [d for d, _ in penalties(debt)]
    assert len(dates) == len(set(dates)) == 27


def test_penalty_rounds_half_up_to_the_cent():
    # 1000.10 × 0.0005 = 0.50005 → 0.50; 1001.00 × 0.0005 = 0.5005 → 0.50; 1003.00 → 0.5015 → 0.50
    debt = make_debt(
        instalments=[{"due_on": DUE, "principal": "1009.00", "interest": "0"}],
    )
    close(debt, DUE + timedelta(days=4))
    # 1009 × 0.0005 = 0.5045 → 0.50
    assert debt.penalty_balance == Decimal("0.50")
    other = make_debt(instalments=[{"due_on": DUE, "principal": "1010.00", "interest": "0"}])
    close(other, DUE + timedelta(days=4))
    # 1010 × 0.0005 = 0.505 → 0.51 (half up)
    assert other.penalty_balance == Decimal("0.51")


def test_penalty_base_principal_and_interest_includes_overdue_interest_only():
    debt = make_debt(
        instalments=[{"due_on": DUE, "principal": "1000.00", "interest": "200.00"}],
        penalty_base="principal_and_interest",
        cost_cap_annual_rate=None,
    )
    close(debt, DUE + timedelta(days=4))
    assert debt.penalty_balance == Decimal("0.60")


def test_payment_received_on_a_day_counts_before_that_days_penalty():
    debt = single()
    close(debt, DUE + timedelta(days=9))
    post_payment(debt=debt, amount="500.00", received_on=DUE + timedelta(days=10), reference="P-10")
    close(debt, DUE + timedelta(days=10))
    debt.refresh_from_db()
    day_10 = dict(penalties(debt))[DUE + timedelta(days=10)]
    # The payment paid the 3.00 penalty first, then 497.00 of principal: base 503.00.
    assert day_10 == Decimal("0.25")


def test_curing_the_account_resets_dpd_and_dofd():
    debt = single()
    close(debt, DUE + timedelta(days=40))
    assert debt.date_of_first_delinquency == DUE + timedelta(days=1)
    assert debt.delinquent_30_on == DUE + timedelta(days=30)
    total = debt.total_balance
    post_payment(debt=debt, amount=total, received_on=DUE + timedelta(days=41), reference="CURE")
    debt.refresh_from_db()
    assert debt.status == Debt.Status.PAID
    assert debt.total_balance == 0


def test_late_fee_charged_once_per_missed_instalment_after_grace():
    debt = make_debt(
        late_fee_fixed=Decimal("30.00"),
        late_fee_percent=Decimal("5"),
        late_fee_cap=Decimal("60.00"),
        cost_cap_annual_rate=None,
    )
    close(debt, date(2026, 2, 3))  # 3 days overdue: inside grace
    assert debt.fees_balance == 0
    close(debt, date(2026, 2, 4))
    # 30.00 + 5 % of 1050.00 = 82.50, capped at 60.00.
    assert debt.fees_balance == Decimal("60.00")
    close(debt, date(2026, 3, 31))
    # Instalment 2 (due 2 March) adds one more fee on 6 March; never a second for #1.
    fees = list(debt.ledger_entries.filter(component="fees").values_list("effective_on", "amount"))
    assert fees == [(date(2026, 2, 4), Decimal("60.00")), (date(2026, 3, 6), Decimal("60.00"))]


def test_cost_cap_reduces_penalty_to_what_is_allowed():
    debt = single(penalty_daily_rate=Decimal("0.01"))
    close(debt, date(2026, 2, 28))
    amounts = dict(penalties(debt))
    assert amounts[date(2026, 2, 4)] == Decimal("10.00")
    assert amounts[date(2026, 2, 5)] == Decimal("10.00")
    # allowed(6 Feb) = 1000 × 24 % × 36 / 365 = 23.67 → only 3.67 left.
    assert amounts[date(2026, 2, 6)] == Decimal("3.67")
    # From then on charged cost equals the cap exactly: 58 days → 38.13.
    assert debt.penalty_balance == Decimal("38.13")


def test_no_cap_when_the_policy_has_none():
    debt = single(penalty_daily_rate=Decimal("0.01"), cost_cap_annual_rate=None)
    close(debt, date(2026, 2, 28))
    assert debt.penalty_balance == Decimal("250.00")


def test_contractual_interest_is_charged_on_its_due_date():
    debt = make_debt()
    close(debt, date(2026, 1, 30))
    assert debt.interest_balance == 0
    close(debt, date(2026, 1, 31))
    assert debt.interest_balance == Decimal("50.00")
    entry = debt.ledger_entries.get(component="interest")
    assert entry.effective_on == date(2026, 1, 31) and entry.kind == "charge"


def test_paid_debts_are_not_closed():
    debt = single()
    post_payment(debt=debt, amount="1000.00", received_on=date(2026, 1, 15), reference="EARLY")
    summary = run_close_of_business(business_date=date(2026, 5, 1))
    assert summary.debts == 0
    debt.refresh_from_db()
    assert debt.status == Debt.Status.PAID and debt.penalty_balance == 0


def test_status_and_bucket_changes_are_in_the_debt_history_with_a_reason():
    debt = single()
    close(debt, DUE + timedelta(days=5))
    latest = debt.history.order_by("-history_id").first()
    assert latest.bucket == "M1"
    assert latest.history_change_reason == f"close of business {(DUE + timedelta(days=5)).isoformat()}"
    assert latest.history_user.username == "system"
