"""The case stage machine (RULES §3): automatic stages, nightly refresh, manual moves."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from backoffice.audit import system_user
from backoffice.errors import Conflict, NotAllowed
from cases.models import CollectionCase, Debt
from cases.services import post_payment
from cases.services.close_of_business import close_chunk
from cases.services.stages import DebtState, change_stage, refresh_stages, stage_for
from tests.factories import CustomerFactory, UserFactory, make_debt

pytestmark = pytest.mark.django_db
Stage = CollectionCase.Stage


def in_group(user, name):
    group, _ = Group.objects.get_or_create(name=name)
    user.groups.add(group)
    return user


def close(debt, day):
    close_chunk(first_id=debt.pk, last_id=debt.pk, business_date=day)
    debt.refresh_from_db()
    return debt


def set_stage(case, stage):
    CollectionCase.objects.filter(pk=case.pk).update(stage=stage)
    case.refresh_from_db()


# --- stage_for ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("dpd", "stage"),
    [
        (0, Stage.REMINDER),
        (7, Stage.REMINDER),
        (8, Stage.SOFT),
        (30, Stage.SOFT),
        (31, Stage.HARD),
        (90, Stage.HARD),
        (91, Stage.HARD),
        (400, Stage.HARD),
    ],
)
def test_stage_for_follows_the_worst_days_past_due(dpd, stage):
    assert stage_for([DebtState("open", dpd)]) == stage


def test_stage_for_uses_the_worst_collectible_debt():
    debts = [DebtState("open", 3), DebtState("charged_off", 45), DebtState("paid", 300)]
    assert stage_for(debts) == Stage.HARD


def test_stage_for_is_closed_when_every_debt_is_closed():
    debts = [("paid", 0), ("settled", 0), ("written_off", 200), ("recalled", 10)]
    assert stage_for(debts) == Stage.CLOSED


def test_stage_for_a_case_without_debts_is_undecided():
    assert stage_for([]) is None


def test_stage_for_follows_the_policy_bucket_edges():
    assert stage_for([DebtState("open", 25, [20, 40, 60])]) == Stage.HARD
    assert stage_for([DebtState("open", 20, [20, 40, 60])]) == Stage.SOFT


# --- refresh_stages -------------------------------------------------------------


def test_refresh_escalates_with_ageing_and_records_history():
    # First instalment due 2026-01-31.
    debt = close(make_debt(), date(2026, 2, 10))
    assert debt.days_past_due == 10
    actor = system_user()
    summary = refresh_stages(business_date=date(2026, 2, 10), actor=actor)
    assert (summary.escalated, summary.cured, summary.closed) == (1, 0, 0)
    case = CollectionCase.objects.get(pk=debt.case_id)
    assert (case.stage, case.stage_changed_on) == (Stage.SOFT, date(2026, 2, 10))
    latest = case.history.first()
    assert latest.stage == Stage.SOFT
    assert latest.history_change_reason == "close of business 2026-02-10"
    assert latest.history_user == actor

    close(debt, date(2026, 3, 5))
    refresh_stages(business_date=date(2026, 3, 5), actor=actor)
    case.refresh_from_db()
    assert case.stage == Stage.HARD


def test_refresh_cures_a_case_whose_debts_are_back_to_current():
    debt = close(make_debt(), date(2026, 2, 10))
    refresh_stages(business_date=date(2026, 2, 10), actor=system_user())
    overdue = debt.penalty_balance + debt.interest_balance + Decimal("1000.00")
    post_payment(debt=debt, amount=overdue, received_on=date(2026, 2, 11), reference="CURE")
    debt = close(debt, date(2026, 2, 11))
    assert debt.days_past_due == 0
    summary = refresh_stages(business_date=date(2026, 2, 11), actor=system_user())
    assert summary.cured == 1
    case = CollectionCase.objects.get(pk=debt.case_id)
    assert case.stage == Stage.REMINDER
    # The move back is in the history with the night's reason.
    assert [h.stage for h in case.history.all()[:2]] == [Stage.REMINDER, Stage.SOFT]


def test_refresh_closes_a_case_whose_debts_are_all_closed():
    debt = make_debt()
    post_payment(debt=debt, amount=debt.total_balance, received_on=date(2026, 1, 10), reference="FULL")
    debt.refresh_from_db()
    assert debt.status == Debt.Status.PAID
    summary = refresh_stages(business_date=date(2026, 1, 10), actor=system_user())
    assert summary.closed == 1
    case = CollectionCase.objects.get(pk=debt.case_id)
    assert (case.stage, case.closed_on) == (Stage.CLOSED, date(2026, 1, 10))
    # Nothing more to do for a closed case.
    assert refresh_stages(business_date=date(2026, 1, 11), actor=system_user()).unchanged == 0


def test_refresh_keeps_a_case_open_while_one_debt_is_collectible():
    customer = CustomerFactory()
    paid, open_debt = make_debt(customer=customer), make_debt(customer=customer)
    post_payment(debt=paid, amount=paid.total_balance, received_on=date(2026, 1, 10), reference="P1")
    refresh_stages(business_date=date(2026, 1, 10), actor=system_user())
    assert CollectionCase.objects.get(pk=open_debt.case_id).stage == Stage.REMINDER


def test_refresh_does_not_move_a_legal_case_but_closes_it_when_paid():
    debt = close(make_debt(), date(2026, 2, 10))
    set_stage(debt.case, Stage.LEGAL)
    refresh_stages(business_date=date(2026, 2, 10), actor=system_user())
    assert CollectionCase.objects.get(pk=debt.case_id).stage == Stage.LEGAL
    debt.refresh_from_db()
    post_payment(debt=debt, amount=debt.total_balance, received_on=date(2026, 2, 11), reference="ALL")
    refresh_stages(business_date=date(2026, 2, 11), actor=system_user())
    assert CollectionCase.objects.get(pk=debt.case_id).stage == Stage.CLOSED


def test_holds_do_not_stop_the_stage_from_following_the_debts():
    debt = close(make_debt(), date(2026, 2, 10))
    CollectionCase.objects.filter(pk=debt.case_id).update(holds=["dispute"])
    refresh_stages(business_date=date(2026, 2, 10), actor=system_user())
    case = CollectionCase.objects.get(pk=debt.case_id)
    assert (case.stage, case.holds) == (Stage.SOFT, ["dispute"])


def test_a_second_refresh_for_the_same_date_writes_nothing():
    debt = close(make_debt(), date(2026, 2, 10))
    refresh_stages(business_date=date(2026, 2, 10), actor=system_user())
    rows = CollectionCase.history.filter(id=debt.case_id).count()
    summary = refresh_stages(business_date=date(2026, 2, 10), actor=system_user())
    assert (summary.escalated, summary.unchanged) == (0, 1)
    assert CollectionCase.history.filter(id=debt.case_id).count() == rows


def test_refresh_works_in_chunks():
    debts = [make_debt() for _ in range(3)]
    for debt in debts:
        close(debt, date(2026, 2, 10))
    summary = refresh_stages(business_date=date(2026, 2, 10), actor=system_user(), chunk_size=2)
    assert summary.escalated == 3
    assert set(CollectionCase.objects.values_list("stage", flat=True)) == {Stage.SOFT}


# --- change_stage ---------------------------------------------------------------


def test_a_collector_cannot_move_a_case_into_legal():
    case = make_debt().case
    actor = in_group(UserFactory(), "Collector")
    before = case.history.count()
    with pytest.raises(NotAllowed):
        change_stage(case=case, stage=Stage.LEGAL, actor=actor, reason="sue", today=date(2026, 3, 1))
    case.refresh_from_db()
    assert case.stage == Stage.REMINDER
    assert case.history.count() == before


@pytest.mark.parametrize("role", ["Legal", "Supervisor", "Administrator"])
def test_legal_staff_and_supervisors_refer_a_case_to_legal(role):
    case = make_debt().case
    actor = in_group(UserFactory(), role)
    change_stage(case=case, stage=Stage.LEGAL, actor=actor, reason="referral", today=date(2026, 3, 1))
    case.refresh_from_db()
    assert (case.stage, case.stage_changed_on) == (Stage.LEGAL, date(2026, 3, 1))
    latest = case.history.first()
    assert (latest.history_user, latest.history_change_reason) == (actor, "referral")


def test_a_collector_cannot_take_a_case_out_of_legal():
    case = make_debt().case
    set_stage(case, Stage.LEGAL)
    with pytest.raises(NotAllowed):
        change_stage(
            case=case,
            stage=Stage.HARD,
            actor=in_group(UserFactory(), "Collector"),
            reason="x",
            today=date(2026, 3, 1),
        )


def test_moving_back_is_allowed_and_recorded():
    case = make_debt().case
    set_stage(case, Stage.HARD)
    actor = in_group(UserFactory(), "Team lead")
    change_stage(case=case, stage=Stage.SOFT, actor=actor, reason="cured by plan", today=date(2026, 3, 2))
    case.refresh_from_db()
    assert case.stage == Stage.SOFT
    assert case.history.first().history_change_reason == "cured by plan"


def test_a_case_with_collectible_debts_cannot_be_closed_by_hand(admin_user):
    case = make_debt().case
    with pytest.raises(Conflict):
        change_stage(case=case, stage=Stage.CLOSED, actor=admin_user, reason="x", today=date(2026, 3, 1))


def test_a_closed_case_whose_debts_are_all_closed_cannot_be_reopened(admin_user):
    debt = make_debt()
    post_payment(debt=debt, amount=debt.total_balance, received_on=date(2026, 1, 10), reference="ALL")
    refresh_stages(business_date=date(2026, 1, 10), actor=system_user())
    with pytest.raises(Conflict):
        change_stage(case=debt.case, stage=Stage.SOFT, actor=admin_user, reason="x", today=date(2026, 3, 1))


def test_change_stage_needs_a_known_stage_and_a_reason(admin_user):
    case = make_debt().case
    with pytest.raises(ValidationError) as refused:
        change_stage(case=case, stage="limbo", actor=admin_user, reason="", today=date(2026, 3, 1))
    assert set(refused.value.message_dict) == {"stage", "reason"}
