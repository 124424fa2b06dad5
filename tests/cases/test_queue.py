"""A collector's queue and the case page: my_queue, case_timeline, case_overview."""

from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.utils import timezone

from backoffice.audit import system_user
from cases.models import CollectionCase, ContactAttempt, PaymentClaim, PaymentPlan, PromiseToPay
from cases.selectors.work import case_overview, case_timeline, my_queue
from cases.services import post_payment
from cases.services.assignment import assign_cases
from cases.services.close_of_business import close_chunk
from cases.services.stages import refresh_stages
from tests.factories import (
    ContactPointFactory,
    CustomerFactory,
    TeamFactory,
    ThirdPartyContactFactory,
    UserFactory,
    make_debt,
)

pytestmark = pytest.mark.django_db
TODAY = date(2026, 2, 10)


def in_group(user, name):
    group, _ = Group.objects.get_or_create(name=name)
    user.groups.add(group)
    return user


def at(day, hour=10):
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour))


@pytest.fixture
def collector():
    return in_group(UserFactory(username="agent"), "Collector")


def my_case(user, *, priority="0", stage=None, team=None):
    debt = make_debt()
    fields = {"assigned_to": user, "priority": Decimal(priority), "team": team}
    if stage:
        fields["stage"] = stage
    CollectionCase.objects.filter(pk=debt.case_id).update(**fields)
    return CollectionCase.objects.get(pk=debt.case_id)


def test_my_queue_shows_only_my_open_cases(collector):
    mine = my_case(collector)
    my_case(collector, stage=CollectionCase.Stage.CLOSED)
    my_case(in_group(UserFactory(), "Collector"))
    my_case(None)
    assert list(my_queue(collector, today=TODAY)) == [mine]


def test_my_queue_puts_promises_due_today_then_callbacks_then_priority(collector):
    rich = my_case(collector, priority="9000")
    promised = my_case(collector, priority="10")
    callback = my_case(collector, priority="20")
    middle_a = my_case(collector, priority="500")
    middle_b = my_case(collector, priority="500")
    PromiseToPay.objects.create(case=promised, amount=Decimal("100.00"), due_on=TODAY)
    PromiseToPay.objects.create(case=rich, amount=Decimal("100.00"), due_on=date(2026, 2, 11))
    ContactAttempt.objects.create(
        case=callback,
        channel="call",
        outcome="callback",
        started_at=at(date(2026, 2, 9)),
        callback_at=at(TODAY, 15),
    )
    # A callback asked for tomorrow is not due yet.
    ContactAttempt.objects.create(
        case=middle_b,
        channel="call",
        outcome="callback",
        started_at=at(date(2026, 2, 9)),
        callback_at=at(date(2026, 2, 11)),
    )
    queue = list(my_queue(collector, today=TODAY))
    assert queue == [promised, callback, rich, middle_a, middle_b]
    assert [c.promise_due_today for c in queue] == [True, False, False, False, False]
    assert [c.callback_due for c in queue] == [False, True, False, False, False]


def test_my_queue_annotates_balance_and_worst_days_past_due(collector):
    customer = CustomerFactory()
    first = make_debt(customer=customer)
    second = make_debt(customer=customer)
    close_chunk(first_id=first.pk, last_id=second.pk, business_date=TODAY)
    first.refresh_from_db()
    second.refresh_from_db()
    CollectionCase.objects.filter(pk=first.case_id).update(assigned_to=collector)
    (row,) = my_queue(collector, today=TODAY)
    assert row.total_balance == first.total_balance + second.total_balance
    assert row.worst_dpd == 10
    assert row.next_action_on is None


@pytest.mark.parametrize("count", [3, 10])
def test_my_queue_runs_one_query_whatever_its_length(collector, count, django_assert_max_num_queries):
    team = TeamFactory()
    for n in range(count):
        case = my_case(collector, priority=str(n), team=team)
        PromiseToPay.objects.create(case=case, amount=Decimal("10.00"), due_on=TODAY)
    with django_assert_max_num_queries(1):
        rows = [
            (c.customer.name, c.team.name, c.total_balance, c.worst_dpd, c.promise_due_today)
            for c in my_queue(collector, today=TODAY)
        ]
    assert len(rows) == count


def test_an_anonymous_user_has_an_empty_queue():
    from django.contrib.auth.models import AnonymousUser

    assert list(my_queue(AnonymousUser(), today=TODAY)) == []


# --- case_timeline ----------------------------------------------------------------


def test_case_timeline_merges_contact_payment_and_promise_newest_first(collector):
    debt = make_debt()
    case = debt.case
    post_payment(debt=debt, amount="100.00", received_on=date(2026, 2, 10), reference="TL-1", actor=collector)
    ContactAttempt.objects.create(
        case=case,
        channel="call",
        outcome="promise",
        note="Will pay on Friday",
        started_at=at(date(2026, 2, 12)),
        created_by=collector,
    )
    promise = PromiseToPay.objects.create(
        case=case, amount=Decimal("500.00"), due_on=date(2026, 2, 20), created_by=collector
    )
    PromiseToPay.objects.filter(pk=promise.pk).update(created_at=at(date(2026, 2, 12), 11))
    events = [e for e in case_timeline(case) if e["kind"] in {"contact", "payment", "promise"}]
    assert [e["kind"] for e in events] == ["promise", "contact", "payment"]
    assert events[0]["summary"] == "Promise to pay 500.00 by 2026-02-20 (pending)"
    assert "Will pay on Friday" in events[1]["summary"]
    assert "Payment 100.00" in events[2]["summary"]
    assert all(e["actor"] == collector for e in events)
    # The payment, posted long after it was received, sits on its received date.
    assert timezone.localdate(events[2]["at"]) == date(2026, 2, 10)


def test_a_payment_recorded_on_its_received_date_keeps_its_time():
    debt = make_debt()
    with time_machine.travel(at(date(2026, 2, 10), 16), tick=False):
        post_payment(debt=debt, amount="100.00", received_on=date(2026, 2, 10), reference="TL-2")
    ContactAttempt.objects.create(
        case=debt.case, channel="sms", outcome="no_answer", started_at=at(TODAY, 12)
    )
    kinds = [e["kind"] for e in case_timeline(debt.case) if e["kind"] in {"contact", "payment"}]
    assert kinds == ["payment", "contact"]


def test_case_timeline_shows_assignments_and_stage_changes():
    debt = make_debt()
    supervisor = in_group(UserFactory(), "Supervisor")
    agent = in_group(UserFactory(), "Collector")
    assign_cases(cases=[debt.case], actor=supervisor, reason="new account", collector=agent)
    close_chunk(first_id=debt.pk, last_id=debt.pk, business_date=TODAY)
    refresh_stages(business_date=TODAY, actor=system_user())
    events = case_timeline(debt.case)
    stage = next(e for e in events if e["kind"] == "stage")
    assert stage["summary"] == "Stage Reminder → Soft: close of business 2026-02-10"
    assert stage["actor"].username == "system"
    assignment = next(e for e in events if e["kind"] == "assignment")
    assert assignment["summary"] == f"Assigned to {agent}: new account"
    assert assignment["actor"] == supervisor
    assert events == sorted(events, key=lambda e: e["at"], reverse=True)


def test_case_timeline_runs_a_bounded_number_of_queries(collector, django_assert_max_num_queries):
    debt = make_debt()
    for n in range(5):
        ContactAttempt.objects.create(
            case=debt.case,
            channel="call",
            outcome="no_answer",
            started_at=at(TODAY, 9 + n),
            created_by=collector,
        )
        PromiseToPay.objects.create(
            case=debt.case, amount=Decimal("10.00"), due_on=TODAY, created_by=collector
        )
        post_payment(debt=debt, amount="10.00", received_on=TODAY, reference=f"Q{n}", actor=collector)
        PaymentClaim.objects.create(
            debt=debt,
            amount=Decimal("10.00"),
            currency=debt.currency,
            received_on=TODAY,
            channel="cash",
            reference=f"C{n}",
            claimed_by=collector,
        )
    # One query per kind of event (payment claims since issue #14), users joined.
    with django_assert_max_num_queries(10):
        events = case_timeline(debt.case)
    assert len([e for e in events if e["kind"] != "stage"]) == 20
    assert len(case_timeline(debt.case, limit=4)) == 4


# --- case_overview ----------------------------------------------------------------


def test_case_overview_gathers_the_case_page(django_assert_max_num_queries):
    customer = CustomerFactory()
    phone = ContactPointFactory(customer=customer)
    relative = ThirdPartyContactFactory(customer=customer)
    first = make_debt(customer=customer)
    second = make_debt(customer=customer)
    case = first.case
    CollectionCase.objects.filter(pk=case.pk).update(holds=["dispute"])
    promise = PromiseToPay.objects.create(case=case, amount=Decimal("50.00"), due_on=TODAY)
    PromiseToPay.objects.create(
        case=case, amount=Decimal("50.00"), due_on=TODAY, status=PromiseToPay.Status.BROKEN
    )
    plan = PaymentPlan.objects.create(case=case, debt=first, total=Decimal("900.00"))
    with django_assert_max_num_queries(8):
        overview = case_overview(case.pk)
        list(overview.active_plan.instalments.all())
    assert overview.customer == customer
    assert overview.contact_points == [phone]
    assert overview.third_parties == [relative]
    assert overview.debts == [first, second]
    assert overview.total_balance == first.total_balance + second.total_balance
    assert overview.open_promises == [promise]
    assert overview.active_plan == plan
    assert overview.holds == [("dispute", "Dispute")]
