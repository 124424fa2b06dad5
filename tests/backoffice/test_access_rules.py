"""``backoffice.access``: each function × each persona returns exactly the
rows the persona's role may see (DESIGN.md, Access)."""

import pytest
from django.contrib.auth.models import Group, Permission

from backoffice import access, roles
from cases.agencies.models import Agency, AgencyPlacement
from cases.bureau.models import AssociatedConsumer, FurnishingState
from cases.bureau_inquiry.models import BureauInquiryAttempt, BureauReport
from cases.models import (
    Assignment,
    AssignmentRule,
    BulkSettlementOffer,
    CollectionCase,
    CollectionPolicy,
    CollectorProfile,
    ContactAttempt,
    Creditor,
    Debt,
    Dispute,
    DunningFiring,
    DunningStep,
    Instalment,
    LedgerEntry,
    Message,
    MessageTemplate,
    Payment,
    PaymentClaim,
    PaymentPlan,
    PlanInstalment,
    Product,
    PromiseToPay,
    RiskModel,
    Settlement,
    Team,
    WatchListEntry,
)
from customers.models import ContactPoint, Customer, ThirdPartyContact
from tests.factories import UserFactory

pytest_plugins = ["tests.personas"]
pytestmark = pytest.mark.django_db

# Rows reached through a case: function → model.
THROUGH_CASES = {
    "cases_for": CollectionCase,
    "customers_for": Customer,
    "contact_points_for": ContactPoint,
    "third_parties_for": ThirdPartyContact,
    "debts_for": Debt,
    "instalments_for": Instalment,
    "ledger_for": LedgerEntry,
    "payments_for": Payment,
    "payment_claims_for": PaymentClaim,
    "assignments_for": Assignment,
    "contacts_for": ContactAttempt,
    "promises_for": PromiseToPay,
    "plans_for": PaymentPlan,
    "plan_instalments_for": PlanInstalment,
    "settlements_for": Settlement,
    "disputes_for": Dispute,
    "messages_for": Message,
    "dunning_firings_for": DunningFiring,
    "watch_list_for": WatchListEntry,
    "agency_placements_for": AgencyPlacement,
    "bureau_reports_for": BureauReport,
    "bureau_attempts_for": BureauInquiryAttempt,
    "furnishing_states_for": FurnishingState,
    "associated_consumers_for": AssociatedConsumer,
}
# Reference data: every row, for a role holding the view permission.
REFERENCE = {
    "creditors_for": Creditor,
    "products_for": Product,
    "policies_for": CollectionPolicy,
    "teams_for": Team,
    "assignment_rules_for": AssignmentRule,
    "collector_profiles_for": CollectorProfile,
    "message_templates_for": MessageTemplate,
    "dunning_steps_for": DunningStep,
    "risk_models_for": RiskModel,
    # Agency staff see only their own agency: the world has just theirs
    # (tests/agencies/test_access.py adds a second one).
    "agencies_for": Agency,
    "bulk_settlement_offers_for": BulkSettlementOffer,
}

# Legal rows: every matter for legal staff and supervision, a collector's
# own cases' matters otherwise; tested row by row in tests/legal/test_access.py.
LEGAL = {
    "matters_for",
    "filings_for",
    "hearings_for",
    "deadlines_for",
    "judgments_for",
    "enforcement_actions_for",
    "legal_costs_for",
    "notifications_for",
    "referable_cases_for",
    "referable_debts_for",
}

# Placement layouts (reference data) and placement files (roles that see
# every case): tested row by row in tests/placements/test_access.py.
PLACEMENTS = {"placement_layouts_for", "placement_files_for"}
# Statement sources, files and lines, and the suspense queue (roles that see
# every case): tested row by row in tests/statements/test_access.py.
STATEMENTS = {"statement_sources_for", "statement_files_for", "statement_lines_for", "suspense_lines_for"}
# Bureau files and furnisher identifiers cover a creditor's whole portfolio:
# the roles that see every case, with the view permission; tested row by row
# in tests/bureau/test_access_and_admin.py.
BUREAU_PORTFOLIO = {"bureau_submissions_for", "furnisher_profiles_for"}
# The payment claims a holder of ``approve_payment`` may decide (issue #14):
# spelled out in ``test_the_claims_to_decide_are_the_pending_claims_of_others``.
CLAIM_DECISIONS = {"payment_claims_to_decide_for"}
# Whose own history (stage and assignee changes) a user reads (issue #15):
# spelled out in ``test_case_histories_follow_the_cases_and_the_agencys_sharing``.
CASE_HISTORIES = {"case_histories_for"}

ALL = {"A", "B", "C"}


def fresh(user):
    """The user re-read: no cached permissions or roles."""
    return type(user).objects.get(pk=user.pk)


def _view_perm(model) -> str:
    return f"{model._meta.app_label}.view_{model._meta.model_name}"


def test_every_access_function_is_in_a_table():
    functions = {
        name
        for name in dir(access)
        if name.endswith("_for") and not name.startswith("_") and callable(getattr(access, name))
    }
    assert functions - {"writable_cases_for"} == (
        set(THROUGH_CASES)
        | set(REFERENCE)
        | LEGAL
        | PLACEMENTS
        | STATEMENTS
        | BUREAU_PORTFOLIO
        | CLAIM_DECISIONS
        | CASE_HISTORIES
    )


@pytest.mark.parametrize("function", sorted(THROUGH_CASES))
def test_rows_through_cases_follow_each_role(world, personas, function):
    model = THROUGH_CASES[function]
    failures = []
    for name in world.PERSONAS:
        user = fresh(personas[name])
        letters = world.CASES_SEEN[name] if user.has_perm(_view_perm(model)) else frozenset()
        expected = world.pks(model, letters)
        got = set(getattr(access, function)(user).values_list("pk", flat=True))
        if got != expected:
            failures.append(f"{name}: expected {sorted(expected)} got {sorted(got)}")
    assert not failures, f"{function}:\n" + "\n".join(failures)


@pytest.mark.parametrize("function", sorted(REFERENCE))
def test_reference_data_is_visible_with_the_view_permission(world, personas, function):
    model = REFERENCE[function]
    every = set(model.objects.values_list("pk", flat=True))
    assert every, f"the world has no {model.__name__}"
    failures = []
    for name in world.PERSONAS:
        user = fresh(personas[name])
        expected = every if name != "outsider" and user.has_perm(_view_perm(model)) else set()
        got = set(getattr(access, function)(user).values_list("pk", flat=True))
        if got != expected:
            failures.append(f"{name}: expected {sorted(expected)} got {sorted(got)}")
    assert not failures, f"{function}:\n" + "\n".join(failures)


# --- the rules, spelled out ---------------------------------------------------


def _letters(world, model, queryset) -> set[str]:
    return {world.letter_of(model, pk) for pk in queryset.values_list("pk", flat=True)}


def test_collector_sees_only_the_rows_of_their_own_case(world, collector):
    user = fresh(collector)
    for model, function in (
        (CollectionCase, access.cases_for),
        (Customer, access.customers_for),
        (ContactPoint, access.contact_points_for),
        (ThirdPartyContact, access.third_parties_for),
        (Debt, access.debts_for),
        (Payment, access.payments_for),
        (LedgerEntry, access.ledger_for),
        (ContactAttempt, access.contacts_for),
        (PromiseToPay, access.promises_for),
    ):
        assert _letters(world, model, function(user)) == {"A"}, model.__name__


def test_team_lead_sees_their_teams_case_not_another_collectors(world, team_lead):
    assert _letters(world, CollectionCase, access.cases_for(fresh(team_lead))) == {"A"}


def test_team_lead_sees_a_case_of_their_team_assigned_to_an_outsider_of_the_team(world, team_lead):
    CollectionCase.objects.filter(pk=world.cases["B"].pk).update(team=world.team)
    assert _letters(world, Debt, access.debts_for(fresh(team_lead))) == {"A", "B"}


def test_team_lead_sees_a_teamless_case_assigned_to_a_member_of_their_team(world, team_lead, collector):
    CollectionCase.objects.filter(pk=world.cases["A"].pk).update(team=None)
    CollectionCase.objects.filter(pk=world.cases["B"].pk).update(assigned_to=collector)
    assert _letters(world, CollectionCase, access.cases_for(fresh(team_lead))) == {"A", "B"}


def test_team_lead_sees_cases_assigned_to_themselves(world, team_lead):
    CollectionCase.objects.filter(pk=world.cases["B"].pk).update(assigned_to=team_lead)
    assert _letters(world, CollectionCase, access.cases_for(fresh(team_lead))) == {"A", "B"}


def test_legal_sees_only_the_legal_stage_case_and_no_payments(world, legal):
    user = fresh(legal)
    assert _letters(world, CollectionCase, access.cases_for(user)) == {"C"}
    assert _letters(world, Debt, access.debts_for(user)) == {"C"}
    assert _letters(world, LedgerEntry, access.ledger_for(user)) == {"C"}
    assert not access.payments_for(user).exists()


def test_case_moving_to_legal_becomes_visible_to_legal(world, legal):
    CollectionCase.objects.filter(pk=world.cases["A"].pk).update(stage=CollectionCase.Stage.LEGAL)
    assert _letters(world, CollectionCase, access.cases_for(fresh(legal))) == {"A", "C"}


@pytest.mark.parametrize("name", ["compliance", "supervisor", "administrator", "superuser"])
def test_broad_roles_see_every_case(world, personas, name):
    user = fresh(personas[name])
    assert _letters(world, CollectionCase, access.cases_for(user)) == ALL
    assert _letters(world, Payment, access.payments_for(user)) == ALL


def test_outsider_sees_no_case_data(world, personas):
    user = fresh(personas["outsider"])
    for function in THROUGH_CASES:
        assert not getattr(access, function)(user).exists(), function


def test_agency_staff_see_only_the_case_placed_with_their_agency(world, agency):
    user = fresh(agency)
    for model, function in (
        (CollectionCase, access.cases_for),
        (Customer, access.customers_for),
        (Debt, access.debts_for),
        (Payment, access.payments_for),
        (ContactAttempt, access.contacts_for),
        (PromiseToPay, access.promises_for),
        (AgencyPlacement, access.agency_placements_for),
    ):
        assert _letters(world, model, function(user)) == {"B"}, model.__name__
    assert not access.assignments_for(user).exists()
    assert not access.watch_list_for(user).exists()


def test_a_recalled_case_disappears_from_agency_staff(world, agency):
    AgencyPlacement.objects.filter(case=world.cases["B"]).update(status=AgencyPlacement.Status.RECALLED)
    user = fresh(agency)
    assert not access.cases_for(user).exists()
    assert not access.writable_cases_for(fresh(agency)).exists()


def test_a_user_without_a_role_sees_nothing_even_with_view_permissions(world):
    user = UserFactory(username="raw")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_collectioncase", "view_creditor"])
    )
    user = fresh(user)
    assert user.has_perm("cases.view_collectioncase")
    assert not access.cases_for(user).exists()
    assert not access.creditors_for(user).exists()


def test_a_role_without_the_view_permission_sees_none_of_that_model(world, collector):
    Group.objects.get(name=roles.COLLECTOR).permissions.remove(
        Permission.objects.get(codename="view_payment")
    )
    user = fresh(collector)
    assert not access.payments_for(user).exists()
    assert _letters(world, Debt, access.debts_for(user)) == {"A"}


def test_an_inactive_user_sees_nothing(world, supervisor):
    type(supervisor).objects.filter(pk=supervisor.pk).update(is_active=False)
    assert not access.cases_for(fresh(supervisor)).exists()


def test_anonymous_sees_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    assert not access.cases_for(AnonymousUser()).exists()
    assert not access.creditors_for(None).exists()


def test_a_collector_still_sees_their_closed_case(world, collector):
    CollectionCase.objects.filter(pk=world.cases["A"].pk).update(stage=CollectionCase.Stage.CLOSED)
    assert _letters(world, CollectionCase, access.cases_for(fresh(collector))) == {"A"}


def test_several_roles_see_the_union(world, collector):
    collector.groups.add(Group.objects.get(name=roles.LEGAL))
    assert _letters(world, CollectionCase, access.cases_for(fresh(collector))) == {"A", "C"}


# --- writes -------------------------------------------------------------------

WRITABLE = {
    "collector": {"A"},
    "collector2": {"B"},
    "team_lead": {"A"},
    "legal": {"C"},
    "compliance": set(),
    "supervisor": ALL,
    "administrator": ALL,
    "agency": {"B"},
    "payments": set(),
    "superuser": ALL,
    "outsider": set(),
}


def test_writable_cases_follow_each_role(world, personas):
    failures = []
    for name in world.PERSONAS:
        got = _letters(world, CollectionCase, access.writable_cases_for(fresh(personas[name])))
        if got != WRITABLE[name]:
            failures.append(f"{name}: expected {sorted(WRITABLE[name])} got {sorted(got)}")
    assert not failures, "\n".join(failures)


# Who decides payment claims: holders of ``approve_payment`` through a role.
APPROVERS = {"supervisor", "administrator", "payments", "superuser"}


def test_the_claims_to_decide_are_the_pending_claims_of_others(world, personas):
    failures = []
    for name in world.PERSONAS:
        user = fresh(personas[name])
        expected = set()
        if name in APPROVERS:
            expected = {
                pk
                for pk in world.pks(PaymentClaim, ALL)
                if PaymentClaim.objects.get(pk=pk).claimed_by_id != user.pk
            }
        if access.may_approve_payments(user) is not (name in APPROVERS):
            failures.append(f"{name}: may_approve_payments is wrong")
        got = set(access.payment_claims_to_decide_for(user).values_list("pk", flat=True))
        if got != expected:
            failures.append(f"{name}: expected {sorted(expected)} got {sorted(got)}")
    assert not failures, "\n".join(failures)


def test_a_decided_claim_leaves_the_queue(world, personas):
    claim = world.row(PaymentClaim, "A")
    PaymentClaim.objects.filter(pk=claim.pk).update(
        status=PaymentClaim.Status.REJECTED,
        decided_by=personas["supervisor"],
        decided_at=claim.created_at,
        reject_reason="no such transfer",
    )
    user = fresh(personas["payments"])
    assert claim.pk not in set(access.payment_claims_to_decide_for(user).values_list("pk", flat=True))
    assert claim.pk in set(access.payment_claims_for(user).values_list("pk", flat=True))


def test_a_collector_may_not_work_their_closed_case(world, collector):
    CollectionCase.objects.filter(pk=world.cases["A"].pk).update(stage=CollectionCase.Stage.CLOSED)
    assert not access.writable_cases_for(fresh(collector)).exists()


def test_writable_cases_can_be_locked_in_a_service(world, collector):
    from django.db import transaction

    with transaction.atomic():
        case = access.writable_cases_for(fresh(collector)).select_for_update().get(pk=world.cases["A"].pk)
    assert case.pk == world.cases["A"].pk


# --- helpers and cost ---------------------------------------------------------


def test_roles_of_and_role_of(personas):
    assert access.roles_of(fresh(personas["team_lead"])) == {roles.TEAM_LEAD}
    assert access.roles_of(fresh(personas["outsider"])) == frozenset()
    assert access.role_of(fresh(personas["outsider"])) is None
    both = fresh(personas["collector"])
    both.groups.add(Group.objects.get(name=roles.SUPERVISOR))
    assert access.role_of(fresh(both)) == roles.SUPERVISOR


def test_full_ids_follow_the_permission(personas):
    assert access.can_view_full_id(fresh(personas["compliance"]))
    assert access.can_view_full_id(fresh(personas["supervisor"]))
    assert not access.can_view_full_id(fresh(personas["collector"]))
    assert not access.can_view_full_id(None)


def test_rows_through_cases_are_one_query_with_a_subquery(world, team_lead, django_assert_num_queries):
    user = fresh(team_lead)
    access.roles_of(user)
    user.has_perm("cases.view_payment")  # warm Django's permission cache
    with django_assert_num_queries(1):
        rows = list(access.payments_for(user))
    assert {p.pk for p in rows} == world.pks(Payment, {"A"})
    sql = str(access.payments_for(user).query).upper()
    assert sql.count("SELECT") >= 2, sql


def test_roles_are_read_once_per_user_object(personas, django_assert_num_queries):
    user = fresh(personas["collector"])
    access.roles_of(user)
    with django_assert_num_queries(0):
        access.roles_of(user)
        access.role_of(user)


def test_case_histories_follow_the_cases_and_the_agencys_sharing(world, personas):
    """Lender staff read the history of every case they see; agency staff
    only where the placement shares the lender's contact history."""
    placement = AgencyPlacement.objects.get(status=AgencyPlacement.Status.OPEN)
    failures = []
    for share in (True, False):
        AgencyPlacement.objects.filter(pk=placement.pk).update(share_contact_history=share)
        for name in world.PERSONAS:
            user = fresh(personas[name])
            expected = set(access.cases_for(user).values_list("pk", flat=True))
            if name == "agency" and not share:
                expected = set()
            got = set(access.case_histories_for(user).values_list("pk", flat=True))
            if got != expected:
                failures.append(f"{name} (share={share}): {sorted(got)} != {sorted(expected)}")
    assert not failures, failures
