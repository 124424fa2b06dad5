"""The case page: one case on one screen, and its quick actions through the services."""

import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from backoffice.models import AccessRecord
from cases.models import (
    CollectionCase,
    ContactAttempt,
    Debt,
    Dispute,
    PaymentPlan,
    PromiseToPay,
    Settlement,
)
from cases.services.contacts import log_contact
from tests.factories import ContactPointFactory, CustomerFactory, UserFactory, make_debt

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Working hours for a customer in Shanghai (CN contact window 08:00–22:00).
NOON = datetime(2026, 2, 10, 12, 0, tzinfo=SHANGHAI)
LATE = datetime(2026, 2, 10, 23, 30, tzinfo=SHANGHAI)
TODAY = date(2026, 2, 10)


@pytest.fixture(autouse=True)
def fast_hashers(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def roles(db):
    call_command("setup_roles", stdout=io.StringIO())


@pytest.fixture(autouse=True)
def at_noon():
    with time_machine.travel(NOON, tick=False):
        yield


def member(role: str, **fields):
    user = UserFactory(**fields)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def collector():
    return member("Collector", username="ann")


@pytest.fixture
def case(collector):
    customer = CustomerFactory(name="Wang Fang", national_id="110101199001011234")
    ContactPointFactory(customer=customer, value="+8613800000001")
    debt = make_debt(customer=customer, opened_on=date(2026, 1, 1))
    CollectionCase.objects.filter(pk=debt.case_id).update(assigned_to=collector)
    return CollectionCase.objects.get(pk=debt.case_id)


def page_url(case):
    return reverse("admin:cases_collectioncase_work", args=[case.pk])


def as_user(client, user):
    client.force_login(user)
    return client


def post(client, case, action, **fields):
    data = {"action": action, **{f"{action}-{k}": v for k, v in fields.items()}}
    return client.post(page_url(case), data)


# --- seeing the case -------------------------------------------------------------------------


def test_collector_sees_customer_debts_and_masked_id_on_own_case(client, collector, case):
    response = as_user(client, collector).get(page_url(case))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Wang Fang" in html
    assert case.debts.get().account_number in html
    assert "110101199001011234" not in html
    assert case.customer.masked_national_id in html
    assert 'id="timeline"' in html and 'id="case-history"' in html


def test_supervisor_sees_the_mask_and_a_way_to_reveal_it_deliberately(client, case):
    """Details always show the mask (issue #15); revealing is the customer
    page's "Reveal" with a reason, never a side effect of opening a case."""
    response = as_user(client, member("Supervisor")).get(page_url(case))
    html = response.content.decode()
    assert "110101199001011234" not in html and case.customer.masked_national_id in html
    assert reverse("admin:customers_customer_change", args=[case.customer_id]) in html
    assert not AccessRecord.objects.exists()


def test_other_collector_gets_404(client, case):
    other = member("Collector", username="bob")
    assert as_user(client, other).get(page_url(case)).status_code == 404


def test_other_collector_cannot_post_a_contact_and_nothing_is_written(client, case):
    other = member("Collector", username="bob")
    response = post(
        as_user(client, other), case, "contact", channel="call", direction="outbound", outcome="no_answer"
    )
    assert response.status_code == 404
    assert not ContactAttempt.objects.exists()


def test_compliance_reads_the_page_without_quick_actions(client, case):
    compliance = member("Compliance")
    response = as_user(client, compliance).get(page_url(case))
    assert response.status_code == 200
    assert 'id="quick-actions"' not in response.content.decode()
    denied = post(client, case, "contact", channel="call", direction="outbound", outcome="no_answer")
    assert denied.status_code == 403
    assert not ContactAttempt.objects.exists()


def test_case_change_view_links_to_case_page(client, collector, case):
    response = as_user(client, collector).get(reverse("admin:cases_collectioncase_change", args=[case.pk]))
    assert page_url(case) in response.content.decode()


def test_compliance_check_says_call_allowed_at_noon(client, collector, case):
    html = as_user(client, collector).get(page_url(case)).content.decode()
    assert "Call allowed now" in html
    assert "local time 12:00 (Asia/Shanghai)" in html
    # CN: three conversations with the debtor a day, none used yet.
    assert "3 calls left today" in html


def test_compliance_check_shows_reason_and_next_time_late_at_night(client, collector, case):
    with time_machine.travel(LATE, tick=False):
        html = as_user(client, collector).get(page_url(case)).content.decode()
    assert "Do not call now" in html
    assert "hours" in html
    assert "2026-02-11 08:00" in html


# --- logging a call ---------------------------------------------------------------------------


def test_logging_a_call_with_a_promise_writes_both_linked(client, collector, case):
    point = case.customer.contact_points.get()
    response = post(
        as_user(client, collector),
        case,
        "contact",
        contact_point=point.pk,
        channel="call",
        direction="outbound",
        outcome="promise",
        duration_s="180",
        note="Will pay on Friday",
        promise_amount="500.00",
        promise_due_on="2026-02-13",
    )
    assert response.status_code == 302
    assert response["Location"] == page_url(case)
    attempt = ContactAttempt.objects.get()
    assert (attempt.outcome, attempt.created_by, attempt.duration_s) == ("promise", collector, 180)
    promise = PromiseToPay.objects.get()
    assert (promise.contact, promise.amount, promise.due_on) == (
        attempt,
        Decimal("500.00"),
        date(2026, 2, 13),
    )
    assert promise.created_by == collector
    html = client.get(page_url(case)).content.decode()
    assert "Promise to pay 500.00 by 2026-02-13" in html
    assert "Will pay on Friday" in html


def test_promise_outcome_without_amount_is_refused_and_no_call_is_logged(client, collector, case):
    response = post(
        as_user(client, collector), case, "contact", channel="call", direction="outbound", outcome="promise"
    )
    assert response.status_code == 200
    assert response.context["forms"]["contact"].errors["promise_amount"]
    assert not ContactAttempt.objects.exists()


def test_promise_due_in_the_past_is_refused_before_the_call_is_logged(client, collector, case):
    response = post(
        as_user(client, collector),
        case,
        "contact",
        channel="call",
        direction="outbound",
        outcome="promise",
        promise_amount="100",
        promise_due_on="2026-02-01",
    )
    assert response.status_code == 200
    assert "promise_due_on" in response.context["forms"]["contact"].errors
    assert not ContactAttempt.objects.exists() and not PromiseToPay.objects.exists()


def test_refused_call_shows_the_reason_and_lands_on_the_timeline(client, collector, case):
    point = case.customer.contact_points.get()
    with time_machine.travel(LATE, tick=False):
        response = post(
            as_user(client, collector),
            case,
            "contact",
            contact_point=point.pk,
            channel="call",
            direction="outbound",
            outcome="promise",
            promise_amount="100",
            promise_due_on="2026-02-12",
        )
        assert response.status_code == 302
        page = client.get(page_url(case))
    attempt = ContactAttempt.objects.get()
    assert attempt.outcome == "refused" and "hours" in attempt.rules
    assert not PromiseToPay.objects.exists()
    shown = [str(m) for m in page.context["messages"]]
    assert any("refused" in m and "hours" in m for m in shown)
    assert "Refused by the contact rules [hours" in page.content.decode()


# --- other quick actions -----------------------------------------------------------------------


def test_promise_form_records_a_promise(client, collector, case):
    response = post(as_user(client, collector), case, "promise", amount="250.00", due_on="2026-02-20")
    assert response.status_code == 302
    promise = PromiseToPay.objects.get()
    assert (promise.case, promise.amount, promise.created_by) == (case, Decimal("250.00"), collector)


def test_plan_form_agrees_a_plan_with_its_instalments(client, collector, case):
    debt = case.debts.get()
    response = post(
        as_user(client, collector),
        case,
        "plan",
        debt=debt.pk,
        total="600.00",
        instalments="2026-03-01 300.00\n2026-04-01 300.00",
    )
    assert response.status_code == 302
    plan = PaymentPlan.objects.get()
    assert plan.total == Decimal("600.00")
    assert [i.amount for i in plan.instalments.order_by("number")] == [Decimal("300.00")] * 2


def test_plan_whose_instalments_do_not_add_up_shows_the_service_error(client, collector, case):
    debt = case.debts.get()
    response = post(
        as_user(client, collector),
        case,
        "plan",
        debt=debt.pk,
        total="600.00",
        instalments="2026-03-01 300.00\n2026-04-01 200.00",
    )
    assert response.status_code == 200
    assert "add up to 500.00" in str(response.context["forms"]["plan"].errors["instalments"])
    assert not PaymentPlan.objects.exists()


def test_settlement_within_collectors_limit_is_approved_at_once(client, collector, case):
    debt = case.debts.get()
    response = post(
        as_user(client, collector),
        case,
        "settlement",
        debt=debt.pk,
        discount_percent="10",
        valid_until="2026-02-28",
    )
    assert response.status_code == 302
    assert Settlement.objects.get().status == Settlement.Status.APPROVED


def test_settlement_above_collectors_limit_waits_and_collector_sees_no_approve(client, collector, case):
    debt = case.debts.get()
    post(
        as_user(client, collector),
        case,
        "settlement",
        debt=debt.pk,
        discount_percent="30",
        valid_until="2026-02-28",
    )
    settlement = Settlement.objects.get()
    assert settlement.status == Settlement.Status.PENDING_APPROVAL
    html = client.get(page_url(case)).content.decode()
    assert f'id="decide-{settlement.pk}"' not in html
    refused = post(client, case, "decision", settlement=settlement.pk, decision="approve", reason="ok")
    assert refused.status_code == 200
    assert "team lead" in str(refused.context["forms"]["decision"].errors)
    settlement.refresh_from_db()
    assert settlement.status == Settlement.Status.PENDING_APPROVAL


def test_supervisor_sees_approve_and_approves_with_a_reason(client, collector, case):
    debt = case.debts.get()
    post(
        as_user(client, collector),
        case,
        "settlement",
        debt=debt.pk,
        discount_percent="50",
        valid_until="2026-02-28",
    )
    settlement = Settlement.objects.get()
    supervisor = member("Supervisor")
    html = as_user(client, supervisor).get(page_url(case)).content.decode()
    assert f'id="decide-{settlement.pk}"' in html
    response = post(client, case, "decision", settlement=settlement.pk, decision="approve", reason="hardship")
    assert response.status_code == 302
    settlement.refresh_from_db()
    assert (settlement.status, settlement.approved_by, settlement.decision_reason) == (
        Settlement.Status.APPROVED,
        supervisor,
        "hardship",
    )


def test_dispute_form_raises_a_dispute_and_holds_the_case(client, collector, case):
    response = post(
        as_user(client, collector),
        case,
        "dispute",
        raised_via="phone",
        reason="Not my loan",
        opened_on="2026-02-10",
    )
    assert response.status_code == 302
    assert Dispute.objects.get().reason == "Not my loan"
    case.refresh_from_db()
    assert case.holds == ["dispute"]


def test_hold_is_placed_and_released_with_reasons(client, collector, case):
    as_user(client, collector)
    assert (
        post(client, case, "hold", operation="place", hold="cease", reason="asked by phone").status_code
        == 302
    )
    case.refresh_from_db()
    assert case.holds == ["cease"]
    newest = case.history.order_by("-history_date", "-history_id").first()
    assert newest.history_change_reason == "asked by phone"
    assert (
        post(client, case, "hold", operation="release", hold="cease", reason="withdrawn").status_code == 302
    )
    case.refresh_from_db()
    assert case.holds == []


def test_releasing_a_hold_the_case_does_not_have_is_refused_on_the_form(client, collector, case):
    response = post(as_user(client, collector), case, "hold", operation="release", hold="cease", reason="x")
    assert response.status_code == 200
    assert response.context["forms"]["hold"].errors


def test_stage_change_shows_in_the_case_history_with_who_why_and_diff(client, collector, case):
    response = post(as_user(client, collector), case, "stage", stage="hard", reason="no contact for weeks")
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.stage == "hard"
    page = client.get(page_url(case))
    newest = page.context["history"][0]
    assert newest["row"].history_user == collector
    assert newest["row"].history_change_reason == "no contact for weeks"
    assert {"field": "stage", "old": "Reminder", "new": "Hard"} in newest["changes"]
    assert "no contact for weeks" in page.content.decode()


def test_unknown_action_is_a_bad_request(client, collector, case):
    assert post(as_user(client, collector), case, "explode").status_code == 400


# --- speed -------------------------------------------------------------------------------------


def _busy(case, collector, n):
    point = case.customer.contact_points.get()
    for hour in range(n):
        log_contact(
            case=case,
            party="debtor",
            channel="call",
            outcome="no_answer",
            started_at=datetime(2026, 2, 9, 8 + hour % 12, hour, tzinfo=SHANGHAI),
            actor=collector,
            contact_point=point,
            direction="inbound",
        )
        PromiseToPay.objects.create(case=case, amount=Decimal("10.00"), due_on=TODAY, created_by=collector)
        ContactPointFactory(customer=case.customer, value=f"+86138000001{hour:02d}", primary=False)
    for _ in range(3):
        debt = make_debt(customer=case.customer)
        Debt.objects.filter(pk=debt.pk).update(case=case)


@pytest.mark.parametrize("rows", [0, 12])
def test_case_page_queries_do_not_grow_with_the_case(
    client, collector, case, django_assert_max_num_queries, rows
):
    _busy(case, collector, rows)
    as_user(client, collector)
    with django_assert_max_num_queries(40):
        response = client.get(page_url(case))
    assert response.status_code == 200
