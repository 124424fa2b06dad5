"""assign_cases and auto_assign: who may assign, what is recorded, how rules pick."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from backoffice.audit import system_user
from backoffice.errors import Conflict, NotAllowed
from cases.models import Assignment, AssignmentRule, CollectionCase, CollectorProfile, Debt
from cases.services.assignment import assign_cases, auto_assign
from tests.factories import CustomerFactory, TeamFactory, UserFactory, make_debt

pytestmark = pytest.mark.django_db


def in_group(user, name):
    group, _ = Group.objects.get_or_create(name=name)
    user.groups.add(group)
    return user


def collector(team=None, *, capacity=200, languages=("zh-hans",), regions=(), group="Collector", **kwargs):
    user = in_group(UserFactory(**kwargs), group)
    if team is not None:
        team.members.add(user)
    CollectorProfile.objects.create(
        user=user, capacity=capacity, languages=list(languages), regions=list(regions)
    )
    return user


def new_case(team=None, *, language="zh-hans", region="", bucket=None):
    debt = make_debt(customer=CustomerFactory(preferred_language=language, region=region))
    if bucket is not None:
        Debt.objects.filter(pk=debt.pk).update(bucket=bucket)
    case = debt.case
    if team is not None:
        CollectionCase.objects.filter(pk=case.pk).update(team=team)
        case.refresh_from_db()
    return case


def history_count(case):
    return CollectionCase.history.filter(id=case.pk).count()


@pytest.fixture
def supervisor():
    return in_group(UserFactory(username="sup"), "Supervisor")


# --- assign_cases -------------------------------------------------------------


def test_supervisor_assigns_cases_in_bulk_with_assignment_rows_and_history(supervisor):
    team = TeamFactory()
    agent = collector(team)
    cases = [new_case() for _ in range(3)]
    result = assign_cases(
        cases=CollectionCase.objects.filter(pk__in=[c.pk for c in cases]),
        actor=supervisor,
        reason="rebalancing the queue",
        collector=agent,
    )
    assert (result.assigned, result.skipped, result.unchanged) == (3, 0, 0)
    rows = Assignment.objects.filter(case__in=cases)
    assert rows.count() == 3
    for row in rows:
        assert (row.collector, row.team, row.previous_collector) == (agent, team, None)
        assert (row.assigned_by, row.reason, row.rule) == (supervisor, "rebalancing the queue", None)
        assert row.history.get().history_user == supervisor
    for case in cases:
        case.refresh_from_db()
        assert (case.assigned_to, case.team) == (agent, team)
        latest = case.history.first()
        assert latest.history_user == supervisor
        assert latest.history_change_reason == "rebalancing the queue"
        assert latest.assigned_to_id == agent.pk


def test_reassignment_records_the_previous_collector(supervisor):
    first, second = collector(), collector()
    case = new_case()
    assign_cases(cases=[case.pk], actor=supervisor, reason="start", collector=first)
    assign_cases(cases=[case], actor=supervisor, reason="holiday cover", collector=second)
    latest = Assignment.objects.filter(case=case).first()
    assert (latest.collector, latest.previous_collector, latest.reason) == (second, first, "holiday cover")


def test_assigning_to_a_team_puts_the_case_in_the_team_pool(supervisor):
    team = TeamFactory()
    agent = collector()
    case = new_case()
    assign_cases(cases=[case], actor=supervisor, reason="start", collector=agent)
    assign_cases(cases=[case], actor=supervisor, reason="move to team", team=team)
    case.refresh_from_db()
    assert (case.assigned_to, case.team) == (None, team)
    assert Assignment.objects.filter(case=case).first().previous_collector == agent


def test_assigning_the_same_collector_again_is_unchanged_and_writes_nothing(supervisor):
    agent = collector()
    case = new_case()
    assign_cases(cases=[case], actor=supervisor, reason="start", collector=agent)
    before = history_count(case)
    result = assign_cases(cases=[case], actor=supervisor, reason="again", collector=agent)
    assert (result.assigned, result.unchanged) == (0, 1)
    assert Assignment.objects.filter(case=case).count() == 1
    assert history_count(case) == before


def test_team_lead_assigns_cases_of_their_team_to_a_member():
    team = TeamFactory()
    lead = in_group(UserFactory(), "Team lead")
    team.lead = lead
    team.save()
    member = collector(team)
    case = new_case(team)
    result = assign_cases(cases=[case], actor=lead, reason="my team", collector=member)
    assert result.assigned == 1
    case.refresh_from_db()
    assert (case.assigned_to, case.team) == (member, team)


def test_a_team_lead_keeps_the_case_within_the_teams_they_lead():
    other, own_a, own_b = TeamFactory(), TeamFactory(), TeamFactory()
    lead = in_group(UserFactory(), "Team lead")
    for team in (own_a, own_b):
        team.lead = lead
        team.save()
    member = collector(other)
    own_b.members.add(member)
    case = new_case(own_a)
    assign_cases(cases=[case], actor=lead, reason="cover", collector=member)
    case.refresh_from_db()
    assert (case.assigned_to, case.team) == (member, own_b)


def test_team_lead_cannot_assign_a_case_of_another_team_and_nothing_changes():
    own, other = TeamFactory(), TeamFactory()
    lead = in_group(UserFactory(), "Team lead")
    own.lead = lead
    own.save()
    member = collector(own)
    mine, theirs = new_case(own), new_case(other)
    before = {c.pk: history_count(c) for c in (mine, theirs)}
    with pytest.raises(NotAllowed) as refused:
        assign_cases(cases=[mine, theirs], actor=lead, reason="grab", collector=member)
    assert isinstance(refused.value, Conflict)
    assert "cases" in refused.value.message_dict
    assert not Assignment.objects.exists()
    for case in (mine, theirs):
        case.refresh_from_db()
        assert case.assigned_to is None
        assert history_count(case) == before[case.pk]


def test_team_lead_cannot_assign_to_a_collector_outside_their_team():
    own, other = TeamFactory(), TeamFactory()
    lead = in_group(UserFactory(), "Team lead")
    own.lead = lead
    own.save()
    outsider = collector(other)
    case = new_case(own)
    with pytest.raises(NotAllowed) as refused:
        assign_cases(cases=[case], actor=lead, reason="x", collector=outsider)
    assert "collector" in refused.value.message_dict
    assert not Assignment.objects.exists()


def test_collector_cannot_assign_cases():
    actor = collector()
    target = collector()
    case = new_case()
    before = history_count(case)
    with pytest.raises(NotAllowed):
        assign_cases(cases=[case], actor=actor, reason="mine now", collector=target)
    assert not Assignment.objects.exists()
    assert history_count(case) == before


def test_a_reason_is_required(supervisor):
    case = new_case()
    with pytest.raises(ValidationError) as refused:
        assign_cases(cases=[case], actor=supervisor, reason="  ", collector=collector())
    assert "reason" in refused.value.message_dict
    assert not Assignment.objects.exists()


def test_a_collector_or_a_team_is_required(supervisor):
    with pytest.raises(ValidationError) as refused:
        assign_cases(cases=[new_case()], actor=supervisor, reason="x")
    assert "collector" in refused.value.message_dict


def test_collector_and_team_together_need_the_collector_to_be_a_member(supervisor):
    team = TeamFactory()
    with pytest.raises(ValidationError) as refused:
        assign_cases(cases=[new_case()], actor=supervisor, reason="x", collector=collector(), team=team)
    assert "collector" in refused.value.message_dict


@pytest.mark.parametrize(
    "target",
    [
        {"is_active": False},
        {"is_staff": False},
        {"group": "Legal"},
    ],
    ids=["inactive", "not-staff", "not-a-collector"],
)
def test_target_must_be_an_active_staff_collector(supervisor, target):
    agent = collector(**target)
    with pytest.raises(ValidationError) as refused:
        assign_cases(cases=[new_case()], actor=supervisor, reason="x", collector=agent)
    assert "collector" in refused.value.message_dict
    assert not Assignment.objects.exists()


def test_closed_cases_are_skipped_with_a_message(supervisor):
    open_case, closed_case = new_case(), new_case()
    CollectionCase.objects.filter(pk=closed_case.pk).update(stage=CollectionCase.Stage.CLOSED)
    result = assign_cases(
        cases=[open_case.pk, closed_case.pk], actor=supervisor, reason="x", collector=collector()
    )
    assert (result.assigned, result.skipped) == (1, 1)
    assert f"Case {closed_case.pk} is closed" in result.messages[0]
    assert not Assignment.objects.filter(case=closed_case).exists()


def test_unknown_case_ids_are_refused(supervisor):
    with pytest.raises(ValidationError) as refused:
        assign_cases(cases=[999999], actor=supervisor, reason="x", collector=collector())
    assert "cases" in refused.value.message_dict


# --- auto_assign ----------------------------------------------------------------


def rule(team, **kwargs):
    kwargs.setdefault("name", f"rule for {team}")
    return AssignmentRule.objects.create(team=team, **kwargs)


def assigned_counts(*users):
    return [CollectionCase.objects.filter(assigned_to=u).count() for u in users]


def test_workload_balancing_fills_collectors_up_to_their_capacity():
    team = TeamFactory()
    small, large = collector(team, capacity=2), collector(team, capacity=3)
    the_rule = rule(team, strategy=AssignmentRule.Strategy.WORKLOAD)
    cases = [new_case() for _ in range(6)]
    result = auto_assign(actor=system_user())
    assert result.assigned_count == 5
    assert assigned_counts(small, large) == [2, 3]
    # The sixth case has nowhere to go and is reported.
    assert list(result.unassigned) == [cases[-1].pk]
    assert "no eligible collector" in result.unassigned[cases[-1].pk]
    row = Assignment.objects.filter(case=cases[0]).get()
    assert (row.rule, row.reason, row.team) == (the_rule, f"auto-assignment: {the_rule.name}", team)
    assert row.assigned_by.username == "system"


def test_workload_counts_cases_already_held():
    team = TeamFactory()
    busy, idle = collector(team, capacity=10), collector(team, capacity=10)
    for case in [new_case() for _ in range(3)]:
        CollectionCase.objects.filter(pk=case.pk).update(assigned_to=busy)
    rule(team)
    new_case(), new_case()
    auto_assign(actor=system_user())
    assert assigned_counts(busy, idle) == [3, 2]


def test_round_robin_alternates_and_remembers_the_last_collector():
    team = TeamFactory()
    first, second = collector(team), collector(team)
    the_rule = rule(team, strategy=AssignmentRule.Strategy.ROUND_ROBIN)
    cases = [new_case() for _ in range(3)]
    auto_assign(actor=system_user())
    owners = [CollectionCase.objects.get(pk=c.pk).assigned_to for c in cases]
    assert owners == [first, second, first]
    the_rule.refresh_from_db()
    assert the_rule.last_assigned == first
    later = new_case()
    auto_assign(actor=system_user(), cases=[later.pk])
    later.refresh_from_db()
    assert later.assigned_to == second


def test_round_robin_skips_a_full_collector():
    team = TeamFactory()
    full, free = collector(team, capacity=1), collector(team)
    CollectionCase.objects.filter(pk=new_case().pk).update(assigned_to=full)
    rule(team, strategy=AssignmentRule.Strategy.ROUND_ROBIN)
    cases = [new_case() for _ in range(2)]
    auto_assign(actor=system_user(), cases=cases)
    assert assigned_counts(full, free) == [1, 2]


def test_a_chinese_speaking_customer_never_goes_to_an_english_only_collector():
    team = TeamFactory()
    english = collector(team, languages=["en"])
    chinese = collector(team, languages=["zh-hans", "en"])
    rule(team)
    zh_cases = [new_case(language="zh-hans") for _ in range(3)]
    en_case = new_case(language="en")
    auto_assign(actor=system_user())
    for case in zh_cases:
        case.refresh_from_db()
        assert case.assigned_to == chinese
    en_case.refresh_from_db()
    assert en_case.assigned_to == english


def test_a_case_whose_language_nobody_speaks_stays_unassigned():
    team = TeamFactory()
    collector(team, languages=["en"])
    rule(team)
    case = new_case(language="zh-hans")
    result = auto_assign(actor=system_user())
    case.refresh_from_db()
    assert case.assigned_to is None
    assert case.pk in result.unassigned
    assert not Assignment.objects.exists()


def test_region_matching_when_the_rule_asks_for_it():
    team = TeamFactory()
    collector(team, regions=["Beijing"])
    shanghai = collector(team, regions=["Shanghai"])
    rule(team, match_collector_region=True)
    case = new_case(region="Shanghai")
    auto_assign(actor=system_user())
    case.refresh_from_db()
    assert case.assigned_to == shanghai


def test_bucket_and_stage_filters_route_cases_to_the_first_matching_rule():
    late_team, early_team, hard_team = TeamFactory(), TeamFactory(), TeamFactory()
    late = collector(late_team)
    early = collector(early_team)
    hard = collector(hard_team)
    rule(hard_team, name="hard stage", order=1, stages=["hard"])
    rule(late_team, name="late buckets", order=2, buckets=["M2", "M3"])
    rule(early_team, name="everything else", order=3)
    m2_case = new_case(bucket="M2")
    current_case = new_case()
    hard_case = new_case(bucket="M2")
    CollectionCase.objects.filter(pk=hard_case.pk).update(stage=CollectionCase.Stage.HARD)
    auto_assign(actor=system_user())
    owners = [CollectionCase.objects.get(pk=c.pk).assigned_to for c in (m2_case, current_case, hard_case)]
    assert owners == [late, early, hard]


def test_a_case_is_routed_by_the_worst_bucket_of_its_debts():
    team, other = TeamFactory(), TeamFactory()
    late = collector(team)
    collector(other)
    rule(team, name="late", order=1, buckets=["M3"])
    rule(other, name="rest", order=2)
    customer = CustomerFactory()
    first = make_debt(customer=customer)
    second = make_debt(customer=customer)
    assert first.case == second.case
    Debt.objects.filter(pk=second.pk).update(bucket="M3")
    auto_assign(actor=system_user())
    assert CollectionCase.objects.get(pk=first.case_id).assigned_to == late


def test_inactive_profiles_and_rules_are_ignored():
    team = TeamFactory()
    away = collector(team)
    CollectorProfile.objects.filter(user=away).update(active=False)
    rule(team)
    rule(TeamFactory(), name="off", order=0, active=False)
    case = new_case()
    result = auto_assign(actor=system_user())
    assert result.assigned_count == 0
    assert "no eligible collector" in result.unassigned[case.pk]


def test_dry_run_reports_the_plan_and_writes_nothing():
    team = TeamFactory()
    agent = collector(team)
    rule(team, strategy=AssignmentRule.Strategy.ROUND_ROBIN)
    case = new_case()
    before = history_count(case)
    result = auto_assign(actor=system_user(), dry_run=True)
    assert result.assigned == [(case.pk, agent.pk, AssignmentRule.objects.get().pk)]
    case.refresh_from_db()
    assert case.assigned_to is None
    assert history_count(case) == before
    assert not Assignment.objects.exists()
    assert AssignmentRule.objects.get().last_assigned is None


def test_auto_assign_leaves_assigned_and_closed_cases_alone(supervisor):
    team = TeamFactory()
    agent, other = collector(team), collector(team)
    rule(team)
    held = new_case()
    assign_cases(cases=[held], actor=supervisor, reason="by hand", collector=other)
    closed = new_case()
    CollectionCase.objects.filter(pk=closed.pk).update(stage=CollectionCase.Stage.CLOSED)
    result = auto_assign(actor=system_user(), cases=[held.pk, closed.pk])
    assert result.assigned_count == 0
    assert set(result.unassigned) == {held.pk, closed.pk}
    held.refresh_from_db()
    assert held.assigned_to == other
    assert CollectionCase.objects.get(pk=closed.pk).assigned_to is None
    assert agent.assigned_cases.count() == 0


def test_a_collector_cannot_run_auto_assignment():
    with pytest.raises(NotAllowed):
        auto_assign(actor=collector())


@pytest.mark.parametrize("count", [3, 10])
def test_auto_assign_runs_a_constant_number_of_queries(count, django_assert_max_num_queries):
    team = TeamFactory()
    for _ in range(3):
        collector(team)
    rule(team)
    for _ in range(count):
        new_case()
    actor = system_user()
    with django_assert_max_num_queries(14):
        result = auto_assign(actor=actor)
    assert result.assigned_count == count


def test_the_auto_assign_task_runs_as_the_system_user_and_is_idempotent():
    from cases.tasks.assignment import auto_assign_cases

    team = TeamFactory()
    collector(team)
    rule(team)
    case = new_case()
    assert auto_assign_cases.delay(case_ids=[case.pk]).get()["assigned"] == 1
    assert auto_assign_cases.delay().get()["assigned"] == 0
    assert Assignment.objects.get().assigned_by.username == "system"
