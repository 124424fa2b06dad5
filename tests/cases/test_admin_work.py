"""Collection-work admin: case changelist actions, auto-assignment, and the
screens of contacts, promises, plans, settlements, disputes and rules."""

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.urls import reverse

from cases.models import (
    Assignment,
    AssignmentRule,
    CollectionCase,
    CollectorProfile,
    ContactAttempt,
    Dispute,
    PaymentPlan,
    PromiseToPay,
    Settlement,
)
from cases.services.disputes import raise_dispute
from cases.services.plans import create_plan
from cases.services.promises import make_promise
from cases.services.settlements import propose_settlement
from tests.factories import ContactPointFactory, TeamFactory, UserFactory, make_debt

pytestmark = pytest.mark.django_db

TODAY = date(2026, 2, 10)
CHANGELIST = "admin:cases_collectioncase_changelist"


@pytest.fixture(autouse=True)
def fast_hashers(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def roles(db):
    call_command("setup_roles", stdout=io.StringIO())


@pytest.fixture(autouse=True)
def on_today():
    with time_machine.travel(datetime(2026, 2, 10, 11, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield


def member(role: str, **fields):
    user = UserFactory(**fields)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def collector():
    return member("Collector", username="ann")


@pytest.fixture
def supervisor():
    return member("Supervisor", username="sue")


def new_case(**fields):
    debt = make_debt()
    CollectionCase.objects.filter(pk=debt.case_id).update(**fields)
    return CollectionCase.objects.get(pk=debt.case_id)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def action_names(response) -> list[str]:
    form = response.context["action_form"]
    return [] if form is None else [value for value, _ in form.fields["action"].choices]


def action(client, url_name, name, objects, **data):
    payload = {"action": name, "_selected_action": [o.pk for o in objects], **data}
    return client.post(reverse(url_name), payload)


# --- assign / reassign ----------------------------------------------------------------------


def test_assign_action_asks_for_collector_team_and_reason(client, supervisor):
    case = new_case()
    client.force_login(supervisor)
    response = action(client, CHANGELIST, "assign_selected", [case])
    assert response.status_code == 200
    assert set(response.context["form"].fields) == {"collector", "team", "reason"}


def test_supervisor_assigns_selected_cases_with_a_reason(client, supervisor, collector):
    cases = [new_case(), new_case()]
    client.force_login(supervisor)
    response = action(
        client,
        CHANGELIST,
        "assign_selected",
        cases,
        apply="1",
        collector=collector.pk,
        reason="holiday cover",
    )
    assert response.status_code == 302
    assert set(CollectionCase.objects.values_list("assigned_to", flat=True)) == {collector.pk}
    rows = Assignment.objects.all()
    assert len(rows) == 2
    assert {(a.assigned_by, a.reason) for a in rows} == {(supervisor, "holiday cover")}
    assert any("2 case(s) assigned" in m for m in messages_of(response))


def test_team_lead_cannot_assign_to_someone_outside_their_teams_and_nothing_changes(client, collector):
    lead = member("Team lead", username="lee")
    own_team = TeamFactory(lead=lead)
    outsider = member("Collector", username="out")
    mine = new_case(team=own_team)
    client.force_login(lead)
    response = action(
        client, CHANGELIST, "assign_selected", [mine], apply="1", collector=outsider.pk, reason="x"
    )
    assert response.status_code == 302
    assert any("Nothing was assigned" in m and "team you lead" in m for m in messages_of(response))
    assert not Assignment.objects.exists()
    mine.refresh_from_db()
    assert mine.assigned_to is None


def test_team_lead_assigns_their_teams_case_to_a_member(client, collector):
    lead = member("Team lead", username="lee")
    own_team = TeamFactory(lead=lead)
    own_team.members.add(collector)
    mine = new_case(team=own_team)
    client.force_login(lead)
    action(client, CHANGELIST, "assign_selected", [mine], apply="1", collector=collector.pk, reason="load")
    mine.refresh_from_db()
    assert mine.assigned_to == collector


def test_assign_without_collector_or_team_shows_the_form_again(client, supervisor):
    case = new_case()
    client.force_login(supervisor)
    response = action(client, CHANGELIST, "assign_selected", [case], apply="1", reason="x")
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Assignment.objects.exists()


def test_collector_has_no_assign_action(client, collector):
    client.force_login(collector)
    choices = action_names(client.get(reverse(CHANGELIST)))
    assert "assign_selected" not in choices and "auto_assign_selected" not in choices


# --- auto-assignment ------------------------------------------------------------------------


@pytest.fixture
def rule(collector):
    team = TeamFactory()
    team.members.add(collector)
    CollectorProfile.objects.create(user=collector, capacity=10, languages=["zh-hans"])
    return AssignmentRule.objects.create(name="All", team=team)


def test_auto_assign_action_places_selected_cases(client, supervisor, collector, rule):
    case, other = new_case(), new_case()
    client.force_login(supervisor)
    response = action(client, CHANGELIST, "auto_assign_selected", [case])
    assert response.status_code == 302
    case.refresh_from_db()
    other.refresh_from_db()
    assert (case.assigned_to, other.assigned_to) == (collector, None)
    assert Assignment.objects.get().rule == rule
    assert any("placed 1 case(s)" in m for m in messages_of(response))


def test_run_auto_assignment_now_places_every_unassigned_case_and_reports(
    client, supervisor, collector, rule
):
    new_case(), new_case()
    closed = new_case(stage=CollectionCase.Stage.CLOSED)
    client.force_login(supervisor)
    changelist = client.get(reverse(CHANGELIST)).content.decode()
    assert reverse("admin:cases_collectioncase_auto_assign") in changelist
    response = client.post(reverse("admin:cases_collectioncase_auto_assign"))
    assert response.status_code == 302
    assert CollectionCase.objects.filter(assigned_to=collector).count() == 2
    closed.refresh_from_db()
    assert closed.assigned_to is None
    assert any("placed 2 case(s); 0 stay unassigned" in m for m in messages_of(response))


def test_run_auto_assignment_now_reports_why_cases_stay_unassigned(client, supervisor):
    new_case()
    client.force_login(supervisor)
    response = client.post(reverse("admin:cases_collectioncase_auto_assign"))
    shown = messages_of(response)
    assert any("0 case(s); 1 stay unassigned" in m for m in shown)
    assert any("no active assignment rule" in m for m in shown)


def test_collector_may_not_run_auto_assignment(client, collector, rule):
    case = new_case()
    client.force_login(collector)
    assert (
        reverse("admin:cases_collectioncase_auto_assign")
        not in client.get(reverse(CHANGELIST)).content.decode()
    )
    assert client.post(reverse("admin:cases_collectioncase_auto_assign")).status_code == 403
    assert client.get(reverse("admin:cases_collectioncase_auto_assign")).status_code == 405
    case.refresh_from_db()
    assert case.assigned_to is None and not Assignment.objects.exists()


def test_rule_admin_action_runs_auto_assignment(client, supervisor, collector, rule):
    new_case()
    client.force_login(supervisor)
    response = action(client, "admin:cases_assignmentrule_changelist", "run_auto_assignment", [rule])
    assert response.status_code == 302
    assert CollectionCase.objects.get().assigned_to == collector


def test_supervisor_edits_rules_and_collector_may_not(client, supervisor, collector, rule):
    url = reverse("admin:cases_assignmentrule_change", args=[rule.pk])
    client.force_login(collector)
    assert client.get(reverse("admin:cases_assignmentrule_add")).status_code == 403
    client.force_login(supervisor)
    assert client.get(url).status_code == 200
    assert client.get(reverse("admin:cases_assignmentrule_add")).status_code == 200


# --- changelist filters and speed -------------------------------------------------------------


def test_changelist_filters_by_hold_assignee_and_bucket(client, supervisor, collector):
    held = new_case(holds=["cease"], assigned_to=collector)
    free = new_case()
    client.force_login(supervisor)

    def listed(**params):
        return list(client.get(reverse(CHANGELIST), params).context["cl"].result_list)

    assert listed(on_hold="yes") == [held]
    assert listed(on_hold="no") == [free]
    assert listed(on_hold="cease") == [held]
    assert listed(assigned=str(collector.pk)) == [held]
    assert listed(assigned="none") == [free]
    assert sorted(c.pk for c in listed(bucket="current")) == sorted([held.pk, free.pk])
    assert listed(bucket="M3") == []


def test_case_changelist_queries_do_not_grow(client, supervisor, collector, django_assert_max_num_queries):
    for _ in range(12):
        new_case(assigned_to=collector, holds=["cease"])
    client.force_login(supervisor)
    # 17 on PostgreSQL: the estimated-count paginator reads pg_class once.
    with django_assert_max_num_queries(17):
        response = client.get(reverse(CHANGELIST))
    rows = response.context["cl"].result_list
    assert len(rows) == 12 and all(row.worst_bucket == "current" for row in rows)


# --- work models ---------------------------------------------------------------------------------


@pytest.fixture
def work(collector):
    case = new_case(assigned_to=collector)
    ContactPointFactory(customer=case.customer)
    debt = case.debts.get()
    ContactAttempt.objects.create(
        case=case,
        channel="call",
        outcome="no_answer",
        started_at=datetime(2026, 2, 9, 10, tzinfo=ZoneInfo("UTC")),
    )
    make_promise(case=case, amount="100", due_on=date(2026, 2, 12), today=TODAY, actor=collector)
    create_plan(
        case=case,
        debt=debt,
        total="200",
        instalments=[{"due_on": date(2026, 3, 1), "amount": "200"}],
        today=TODAY,
        actor=collector,
    )
    propose_settlement(
        case=case,
        debt=debt,
        discount_percent="30",
        valid_until=date(2026, 2, 28),
        today=TODAY,
        actor=collector,
    )
    return case


WORK_MODELS = [
    "contactattempt",
    "promisetopay",
    "paymentplan",
    "settlement",
    "assignmentrule",
    "collectorprofile",
]


@pytest.mark.parametrize("model", [*WORK_MODELS, "dispute", "assignment"])
def test_work_screens_open_for_superuser(client, admin_user, work, rule, model):
    raise_dispute(case=work, raised_via="phone", reason="not mine", opened_on=TODAY, actor=admin_user)
    Assignment.objects.create(case=work, collector=None, reason="seed")
    client.force_login(admin_user)
    assert client.get(reverse(f"admin:cases_{model}_changelist")).status_code == 200
    from django.apps import apps

    obj = apps.get_model("cases", model).objects.order_by("pk").first()
    assert client.get(reverse(f"admin:cases_{model}_change", args=[obj.pk])).status_code == 200


def test_contact_attempts_are_read_only_and_added_on_the_case_page(client, admin_user, work):
    client.force_login(admin_user)
    assert client.get(reverse("admin:cases_contactattempt_add")).status_code == 403
    response = client.get(reverse("admin:cases_contactattempt_changelist"))
    assert reverse("admin:cases_collectioncase_work", args=[work.pk]) in response.content.decode()


def test_collector_sees_only_their_cases_contacts(client, collector, work):
    other_case = new_case(assigned_to=member("Collector", username="bob"))
    ContactAttempt.objects.create(
        case=other_case,
        channel="call",
        outcome="busy",
        started_at=datetime(2026, 2, 9, 10, tzinfo=ZoneInfo("UTC")),
    )
    client.force_login(collector)
    listed = client.get(reverse("admin:cases_contactattempt_changelist")).context["cl"].result_list
    assert {c.case_id for c in listed} == {work.pk}


def lead_of(collector):
    """A team lead whose team has ``collector`` (so the lead sees their cases)."""
    lead = member("Team lead", username="lee")
    TeamFactory(lead=lead).members.add(collector)
    return lead


def test_team_lead_approves_a_settlement_within_their_limit(client, collector, work):
    lead = lead_of(collector)
    settlement = Settlement.objects.get()
    client.force_login(lead)
    response = action(
        client, "admin:cases_settlement_changelist", "approve_selected", [settlement], apply="1", reason="ok"
    )
    assert response.status_code == 302
    settlement.refresh_from_db()
    assert (settlement.status, settlement.approved_by) == (Settlement.Status.APPROVED, lead)


def test_team_lead_cannot_approve_above_their_limit_and_it_stays_pending(client, collector):
    case = new_case(assigned_to=collector)
    settlement = propose_settlement(
        case=case,
        debt=case.debts.get(),
        discount_percent="50",
        valid_until=date(2026, 2, 28),
        today=TODAY,
        actor=collector,
    )
    client.force_login(lead_of(collector))
    response = action(
        client, "admin:cases_settlement_changelist", "approve_selected", [settlement], apply="1", reason="ok"
    )
    assert any("supervisor" in m for m in messages_of(response))
    settlement.refresh_from_db()
    assert settlement.status == Settlement.Status.PENDING_APPROVAL


def test_supervisor_rejects_a_settlement_with_a_reason(client, supervisor, work):
    settlement = Settlement.objects.get()
    client.force_login(supervisor)
    action(
        client,
        "admin:cases_settlement_changelist",
        "reject_selected",
        [settlement],
        apply="1",
        reason="too low",
    )
    settlement.refresh_from_db()
    assert (settlement.status, settlement.decision_reason) == (Settlement.Status.REJECTED, "too low")


def test_collector_has_no_settlement_decision_actions(client, collector, work):
    client.force_login(collector)
    assert "approve_selected" not in action_names(client.get(reverse("admin:cases_settlement_changelist")))


def test_resolving_a_dispute_releases_the_hold(client, admin_user, work):
    dispute = raise_dispute(
        case=work, raised_via="phone", reason="not mine", opened_on=TODAY, actor=admin_user
    )
    client.force_login(member("Compliance"))
    response = action(
        client,
        "admin:cases_dispute_changelist",
        "resolve_selected",
        [dispute],
        apply="1",
        outcome="verified",
        resolved_on="2026-02-10",
        reason="statement sent",
    )
    assert response.status_code == 302
    dispute.refresh_from_db()
    work.refresh_from_db()
    assert dispute.status == Dispute.Status.RESOLVED and work.holds == []


def test_resolve_form_needs_a_note(client, admin_user, work):
    dispute = raise_dispute(
        case=work, raised_via="phone", reason="not mine", opened_on=TODAY, actor=admin_user
    )
    client.force_login(admin_user)
    response = action(
        client, "admin:cases_dispute_changelist", "resolve_selected", [dispute], apply="1", outcome="verified"
    )
    assert response.status_code == 200 and response.context["form"].errors
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.OPEN


def test_cancel_promise_and_plan_actions_call_the_services(client, collector, work):
    client.force_login(collector)
    promise, plan = PromiseToPay.objects.get(), PaymentPlan.objects.get()
    action(
        client, "admin:cases_promisetopay_changelist", "cancel_selected", [promise], apply="1", reason="wrong"
    )
    action(client, "admin:cases_paymentplan_changelist", "cancel_selected", [plan], apply="1", reason="wrong")
    promise.refresh_from_db()
    plan.refresh_from_db()
    assert promise.status == PromiseToPay.Status.CANCELLED and plan.status == PaymentPlan.Status.CANCELLED


def test_promise_money_and_status_are_not_editable(client, admin_user, work):
    client.force_login(admin_user)
    promise = PromiseToPay.objects.get()
    response = client.post(
        reverse("admin:cases_promisetopay_change", args=[promise.pk]), {"amount": "1.00", "status": "kept"}
    )
    assert response.status_code == 403
    promise.refresh_from_db()
    assert promise.status == PromiseToPay.Status.PENDING
