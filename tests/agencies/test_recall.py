"""Recalling placements: by hand with a reason, on a dispute, on payment in
full, and at the end of the period (the nightly step)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from backoffice.errors import Conflict, NotAllowed
from cases.agencies.models import AgencyPlacement
from cases.agencies.services import close_placements, place_with_agency, recall_placement
from cases.models import CollectionCase, Dispute, Hold
from cases.services.disputes import raise_dispute
from cases.services.end_of_day import finish_business_day
from cases.services.payments import post_payment
from tests.agencies.conftest import case_with_debt

pytestmark = pytest.mark.django_db

FEB = date(2026, 2, 1)
MAR31 = date(2026, 3, 31)


@pytest.fixture
def placement(product, agency, supervisor):
    case = case_with_debt(product)
    (placed,) = place_with_agency(
        cases=[case], agency=agency, start_on=FEB, end_on=MAR31, actor=supervisor, reason="placed"
    )
    return placed


def test_recall_by_hand_records_who_when_and_why(placement, supervisor):
    recalled = recall_placement(
        placement=placement, on=date(2026, 2, 20), actor=supervisor, reason="agency slow"
    )
    assert recalled.status == AgencyPlacement.Status.RECALLED
    assert recalled.recall_reason == AgencyPlacement.RecallReason.BY_HAND
    assert recalled.recall_note == "agency slow"
    assert recalled.recalled_by == supervisor and recalled.recalled_at is not None
    assert recalled.closed_on == date(2026, 2, 20)
    latest = recalled.history.order_by("-history_id").first()
    assert latest.history_user == supervisor and latest.history_change_reason == "agency slow"


def test_recall_needs_a_reason_a_supervisor_and_an_open_placement(placement, supervisor, agent):
    with pytest.raises(ValidationError, match="Say why"):
        recall_placement(placement=placement, on=date(2026, 2, 20), actor=supervisor, reason="")
    with pytest.raises(NotAllowed):
        recall_placement(placement=placement, on=date(2026, 2, 20), actor=agent, reason="let go")
    with pytest.raises(ValidationError, match="before it started"):
        recall_placement(placement=placement, on=date(2026, 1, 20), actor=supervisor, reason="early")
    placement.refresh_from_db()
    assert placement.status == AgencyPlacement.Status.OPEN and placement.history.count() == 1
    recall_placement(placement=placement, on=date(2026, 2, 20), actor=supervisor, reason="done")
    with pytest.raises(Conflict, match="already recalled"):
        recall_placement(placement=placement, on=date(2026, 2, 21), actor=supervisor, reason="again")


def test_raising_a_dispute_recalls_the_case_at_once(placement, agent):
    dispute = raise_dispute(
        case=placement.case,
        raised_via=Dispute.Via.PHONE,
        reason="not mine",
        opened_on=date(2026, 2, 12),
        actor=agent,
    )
    placement.refresh_from_db()
    assert dispute.pk is not None
    assert placement.status == AgencyPlacement.Status.RECALLED
    assert placement.recall_reason == AgencyPlacement.RecallReason.DISPUTE
    assert placement.closed_on == date(2026, 2, 12)


def test_payment_in_full_recalls_the_case_at_once(placement, supervisor):
    debt = placement.case.debts.get()
    partial = post_payment(
        debt=debt, amount=Decimal("1000.00"), received_on=date(2026, 2, 2), reference="P-1"
    )
    placement.refresh_from_db()
    assert partial.created and placement.status == AgencyPlacement.Status.OPEN
    debt.refresh_from_db()
    post_payment(debt=debt, amount=debt.total_balance, received_on=date(2026, 2, 2), reference="P-2")
    placement.refresh_from_db()
    assert placement.status == AgencyPlacement.Status.RECALLED
    assert placement.recall_reason == AgencyPlacement.RecallReason.PAID_IN_FULL
    assert placement.closed_on == date(2026, 2, 2)


def test_the_nightly_step_expires_ended_periods_once(placement):
    from backoffice.audit import system_user

    actor = system_user()
    assert close_placements(business_date=date(2026, 3, 30), actor=actor).expired == 0
    result = close_placements(business_date=MAR31, actor=actor)
    placement.refresh_from_db()
    assert result.expired == 1
    assert placement.status == AgencyPlacement.Status.EXPIRED and placement.closed_on == MAR31
    assert close_placements(business_date=date(2026, 4, 1), actor=actor).expired == 0
    assert placement.history.count() == 2


def test_the_nightly_step_recalls_disputed_and_paid_off_cases(product, agency, supervisor):
    from backoffice.audit import system_user

    held, paid, gone = case_with_debt(product), case_with_debt(product), case_with_debt(product)
    place_with_agency(
        cases=[held, paid, gone], agency=agency, start_on=FEB, end_on=MAR31, actor=supervisor, reason="x"
    )
    # Changes that reached the case without the services' hooks (e.g. a bulk fix).
    CollectionCase.objects.filter(pk=held.pk).update(holds=[Hold.DISPUTE])
    paid.debts.update(status="paid")
    gone.debts.update(status="written_off")
    result = close_placements(business_date=date(2026, 2, 15), actor=system_user())
    counts = (result.recalled_dispute, result.recalled_paid, result.recalled_closed, result.expired)
    assert counts == (1, 1, 1, 0)
    by_case = {p.case_id: p for p in AgencyPlacement.objects.all()}
    assert by_case[held.pk].recall_reason == AgencyPlacement.RecallReason.DISPUTE
    assert by_case[paid.pk].recall_reason == AgencyPlacement.RecallReason.PAID_IN_FULL
    assert by_case[gone.pk].recall_reason == AgencyPlacement.RecallReason.CASE_CLOSED
    assert {p.closed_on for p in by_case.values()} == {date(2026, 2, 15)}


def test_the_end_of_day_runs_the_agency_step(placement, monkeypatch):
    import cases.services.end_of_day as end_of_day

    for name in ("score_debts", "early_warning", "refresh_priorities", "evaluate_ladder", "seal_history"):
        monkeypatch.setattr(end_of_day, name, lambda **kwargs: None)
    finish_business_day(business_date=date(2026, 4, 2))
    placement.refresh_from_db()
    assert placement.status == AgencyPlacement.Status.EXPIRED
