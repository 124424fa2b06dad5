"""The bureau score feeds the queue priority, the risk features and the
early warning ("bureau score drop")."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from backoffice.audit import system_user
from cases.bureau_inquiry.models import BureauReport
from cases.models import RiskModel, WatchListEntry
from cases.risk.features import BUREAU_FEATURE_NAMES, FEATURE_NAMES, feature_rows, load_history
from cases.risk.model import Params, predict
from cases.services.close_of_business import close_chunk
from cases.services.priority import CaseSignals, bureau_score_factor, refresh_priorities, score_case
from cases.services.risk import early_warning, risk_signs
from tests.factories import make_debt

pytestmark = pytest.mark.django_db
DAY = date(2026, 2, 10)
Reason = WatchListEntry.Reason


def report(customer, *, on: date, score: int | None):
    return BureauReport.objects.create(
        bureau="b",
        customer=customer,
        fetched_at=timezone.make_aware(datetime(on.year, on.month, on.day, 9)),
        request_id=f"{customer.pk}-{on.isoformat()}-{score}",
        score=score,
    )


@pytest.mark.parametrize(
    ("score", "factor"),
    [(820, "1.20"), (700, "1.20"), (699, "1.00"), (600, "1.00"), (550, "0.80"), (420, "0.60")],
)
def test_score_bands(score, factor):
    assert bureau_score_factor(score) == Decimal(factor)


def test_a_low_score_lowers_the_expected_recovery_and_says_so():
    signals = CaseSignals(balance=Decimal("1000.00"), worst_dpd=45, bureau_score=540)
    score = score_case(signals, today=DAY)
    assert score.priority == Decimal("280.00")  # 0.35 × 1000 × 0.80
    assert score.reasons[1] == "Bureau score 540: expected recovery × 0.80"


def test_a_model_with_the_bureau_features_is_not_adjusted_twice():
    signals = CaseSignals(
        balance=Decimal("1000.00"),
        risk_score=Decimal("0.5"),
        risk_model_version=3,
        bureau_score=420,
        bureau_score_in_model=True,
    )
    assert score_case(signals, today=DAY).priority == Decimal("500.00")


def test_refresh_priorities_reads_the_newest_score():
    debt = make_debt()
    close_chunk(first_id=debt.pk, last_id=debt.pk, business_date=DAY)
    report(debt.customer, on=DAY - timedelta(days=40), score=720)
    report(debt.customer, on=DAY - timedelta(days=5), score=480)
    refresh_priorities(today=DAY, actor=system_user())
    debt.case.refresh_from_db()
    assert "Bureau score 480: expected recovery × 0.60" in debt.case.priority_reasons


def test_without_bureau_data_the_features_are_the_base_ones():
    make_debt()
    (row,) = feature_rows(load_history(), as_of=DAY)
    assert list(row.values) == FEATURE_NAMES


def test_the_bureau_features_are_the_newest_score_known_on_the_date():
    scored, unscored = make_debt(), make_debt()
    report(scored.customer, on=DAY - timedelta(days=20), score=650)
    report(scored.customer, on=DAY + timedelta(days=1), score=500)  # not known on DAY
    rows = {r.debt_id: r for r in feature_rows(load_history(), as_of=DAY)}
    assert [rows[scored.pk].values[n] for n in BUREAU_FEATURE_NAMES] == [650.0, 1.0]
    assert [rows[unscored.pk].values[n] for n in BUREAU_FEATURE_NAMES] == [0.0, 0.0]


def test_a_model_trained_without_bureau_features_still_scores_rows_with_them():
    make_debt()
    params = Params(list(FEATURE_NAMES), [0.0] * 11, [1.0] * 11, [0.0] * 11, 0.0)
    (row,) = feature_rows(load_history(), as_of=DAY)
    row.values.update(bureau_score=600.0, has_bureau_score=1.0)
    assert predict(params, [row])[0] == pytest.approx(0.5)


def test_a_model_with_bureau_features_reads_missing_ones_as_no_score():
    make_debt()
    names = [*FEATURE_NAMES, *BUREAU_FEATURE_NAMES]
    coefficients = [0.0] * 11 + [0.0, 1.0]
    params = Params(names, [0.0] * 13, [1.0] * 13, coefficients, 0.0)
    (row,) = feature_rows(load_history(), as_of=DAY)
    assert predict(params, [row])[0] == pytest.approx(0.5)  # has_bureau_score read as 0


@pytest.fixture
def current_debt():
    """A debt opened on DAY: current (0 DPD), open case."""
    return make_debt(opened_on=DAY)


def test_a_score_drop_beyond_the_threshold_is_an_early_warning(current_debt, settings):
    settings.BUREAU_SCORE_DROP_POINTS = 50
    report(current_debt.customer, on=DAY - timedelta(days=35), score=700)
    report(current_debt.customer, on=DAY - timedelta(days=2), score=650)
    assert risk_signs(business_date=DAY) == {current_debt.pk: [Reason.BUREAU_SCORE_DROP]}
    early_warning(business_date=DAY, actor=system_user())
    entry = WatchListEntry.objects.get(debt=current_debt)
    assert entry.reasons == ["bureau_score_drop"]


def test_a_small_drop_or_a_rise_is_not_a_sign(current_debt, settings):
    settings.BUREAU_SCORE_DROP_POINTS = 50
    report(current_debt.customer, on=DAY - timedelta(days=35), score=700)
    report(current_debt.customer, on=DAY - timedelta(days=2), score=651)
    assert risk_signs(business_date=DAY) == {}
    report(current_debt.customer, on=DAY - timedelta(days=1), score=720)
    assert risk_signs(business_date=DAY) == {}


def test_a_report_after_the_business_date_is_not_read(current_debt, settings):
    settings.BUREAU_SCORE_DROP_POINTS = 50
    report(current_debt.customer, on=DAY - timedelta(days=35), score=700)
    report(current_debt.customer, on=DAY + timedelta(days=3), score=500)
    assert risk_signs(business_date=DAY) == {}


def test_reports_without_a_score_are_skipped(current_debt, settings):
    settings.BUREAU_SCORE_DROP_POINTS = 50
    report(current_debt.customer, on=DAY - timedelta(days=35), score=700)
    report(current_debt.customer, on=DAY - timedelta(days=20), score=None)
    report(current_debt.customer, on=DAY - timedelta(days=2), score=600)
    assert risk_signs(business_date=DAY) == {current_debt.pk: [Reason.BUREAU_SCORE_DROP]}


def test_an_active_model_with_bureau_features_is_detected(settings):
    debt = make_debt()
    close_chunk(first_id=debt.pk, last_id=debt.pk, business_date=DAY)
    report(debt.customer, on=DAY - timedelta(days=5), score=480)
    RiskModel.objects.create(
        version=1,
        as_of=DAY,
        trained_from=DAY,
        trained_to=DAY,
        feature_names=[*FEATURE_NAMES, *BUREAU_FEATURE_NAMES],
        active=True,
    )
    type(debt.case).objects.filter(pk=debt.case_id).update(risk_score=Decimal("0.5"))
    refresh_priorities(today=DAY, actor=system_user())
    debt.case.refresh_from_db()
    assert not any(r.startswith("Bureau score") for r in debt.case.priority_reasons)
