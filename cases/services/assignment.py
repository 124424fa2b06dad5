"""Who works which case: manual assignment and auto-assignment rules
(DESIGN.md: ``Assignment`` history, ``POST cases/{id}/assign/``).

Every change of ``CollectionCase.assigned_to``/``team`` writes one
``Assignment`` row (who, to whom, by whom, why, under which rule) and one
history row of the case, in the transaction that made the change.

Who may assign (checked again here, on the locked rows, whatever the screen
already checked):

- superusers and the Supervisor and Administrator groups: any case, to any
  eligible collector or team;
- the Team lead group: only cases of teams they lead (``Team.lead``), only to
  those teams or to their members (or themselves);
- anyone else: nobody's cases.

A refusal raises ``NotAllowed`` (a ``Conflict``, so HTTP 409) and writes
nothing at all, not even for the cases the actor could have assigned.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from backoffice.audit import SYSTEM_USERNAME, record
from backoffice.errors import NotAllowed
from backoffice.roles import ADMINISTRATOR, COLLECTOR, SUPERVISOR, TEAM_LEAD
from cases.models import Assignment, AssignmentRule, CollectionCase, CollectorProfile, Debt, Team

CLOSED = CollectionCase.Stage.CLOSED

# The task that runs ``auto_assign`` in a worker (``cases.tasks.assignment``); callers
# that place cases enqueue it by this name after commit.
AUTO_ASSIGN_TASK = "cases.tasks.auto_assign_cases"


def role_names(user) -> set[str]:
    """The user's group names (one query); empty for anonymous or inactive users."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    return set(user.groups.values_list("name", flat=True))


def can_assign_any_case(user) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or bool(role_names(user) & {SUPERVISOR, ADMINISTRATOR})


def _is_system(user) -> bool:
    return user is not None and user.get_username() == SYSTEM_USERNAME


@dataclass
class AssignmentResult:
    """What ``assign_cases`` did. ``messages`` explain every skipped case."""

    assigned: int = 0
    unchanged: int = 0
    skipped: int = 0
    messages: list[str] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "assigned": self.assigned,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "messages": list(self.messages),
        }


def case_ids_of(cases) -> list[int]:
    """Ids from a queryset, a case, an id, or an iterable of cases and ids."""
    if isinstance(cases, QuerySet):
        return list(cases.order_by().values_list("pk", flat=True))
    if isinstance(cases, CollectionCase | int | str):
        cases = [cases]
    ids = []
    try:
        for item in cases:
            ids.append(item.pk if isinstance(item, CollectionCase) else int(item))
    except (TypeError, ValueError):
        raise ValidationError({"cases": "Cases must be case ids or cases."}) from None
    return ids


def _resolve(model, value, field_name: str):
    if value is None or isinstance(value, model):
        return value
    try:
        return model.objects.get(pk=int(value))
    except (model.DoesNotExist, TypeError, ValueError):
        raise ValidationError({field_name: f"Unknown {model._meta.verbose_name}."}) from None


def _check_collector(collector) -> None:
    """A collector who can take work: active staff in the Collector or Team lead group."""
    problems = []
    if not collector.is_active:
        problems.append(f"{collector} is not active.")
    if not collector.is_staff:
        problems.append(f"{collector} is not staff.")
    if not role_names(collector) & {COLLECTOR, TEAM_LEAD}:
        problems.append(f"{collector} is not in the Collector or Team lead group.")
    if problems:
        raise ValidationError({"collector": problems})


def assign_cases(
    *,
    cases,
    actor,
    reason: str,
    collector=None,
    team: Team | int | None = None,
) -> AssignmentResult:
    """Assign ``cases`` (a queryset, cases or ids) to ``collector`` and/or ``team``.

    Give a collector, a team, or both when the collector is a member of the
    team. With a team only, the cases go to the team's pool (no collector).
    With a collector only, a case keeps its team when the collector belongs
    to it, otherwise it takes the collector's team (the first by id), or none.

    Closed cases are skipped with a message; cases already assigned exactly
    so are counted as unchanged. Raises ``ValidationError`` per field for bad
    input and ``NotAllowed`` when the actor may not assign one of the cases
    or to that target; either way nothing is written.
    """
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = ["A reason is required."]
    if collector is None and team is None:
        errors["collector"] = ["Choose a collector or a team."]
    if errors:
        raise ValidationError(errors)
    collector = _resolve(get_user_model(), collector, "collector")
    team = _resolve(Team, team, "team")
    if collector is not None:
        _check_collector(collector)
    collector_team_ids = (
        list(collector.collection_teams.order_by("id").values_list("id", flat=True)) if collector else []
    )
    if collector is not None and team is not None and team.pk not in collector_team_ids:
        raise ValidationError({"collector": [f"{collector} is not a member of {team}."]})
    ids = case_ids_of(cases)
    if not ids:
        raise ValidationError({"cases": ["Choose at least one case."]})

    result = AssignmentResult()
    with transaction.atomic():
        locked = list(
            CollectionCase.objects.select_for_update(of=("self",)).filter(pk__in=set(ids)).order_by("pk")
        )
        missing = sorted(set(ids) - {c.pk for c in locked})
        if missing:
            raise ValidationError({"cases": [f"Unknown cases: {', '.join(map(str, missing))}."]})
        led = _check_may_assign(actor=actor, cases=locked, collector=collector, team=team)
        # A team lead's cases stay within the teams they lead.
        target_team_ids = [t for t in collector_team_ids if led is None or t in led]

        changed: list[CollectionCase] = []
        for case in locked:
            if case.stage == CLOSED:
                result.skipped += 1
                result.messages.append(f"Case {case.pk} is closed and was not assigned.")
                continue
            if team is not None:
                new_team_id = team.pk
            elif case.team_id is not None and case.team_id in target_team_ids:
                new_team_id = case.team_id
            else:
                new_team_id = target_team_ids[0] if target_team_ids else None
            new_collector_id = collector.pk if collector else None
            if case.assigned_to_id == new_collector_id and case.team_id == new_team_id:
                result.unchanged += 1
                continue
            result.assignments.append(
                record(
                    Assignment(
                        case=case,
                        collector_id=new_collector_id,
                        team_id=new_team_id,
                        previous_collector_id=case.assigned_to_id,
                        assigned_by=actor,
                        reason=reason,
                    ),
                    actor=actor,
                    reason=reason,
                )
            )
            case.assigned_to_id = new_collector_id
            case.team_id = new_team_id
            changed.append(record(case, actor=actor, reason=reason))
        _write(changed, result.assignments, actor=actor, reason=reason)
        result.assigned = len(changed)
    return result


def _check_may_assign(*, actor, cases: list[CollectionCase], collector, team) -> set[int] | None:
    """Raise ``NotAllowed`` unless ``actor`` may assign every one of ``cases``.

    Returns the ids of the teams a team lead leads, ``None`` for an actor who
    may assign anywhere.
    """
    if can_assign_any_case(actor):
        return None
    if TEAM_LEAD not in role_names(actor):
        raise NotAllowed({"cases": ["You may not assign cases."]})
    led = set(Team.objects.filter(lead=actor).values_list("pk", flat=True))
    foreign = [c.pk for c in cases if c.team_id not in led]
    if foreign:
        raise NotAllowed(
            {"cases": [f"Cases {', '.join(map(str, foreign))} do not belong to a team you lead."]}
        )
    if team is not None and team.pk not in led:
        raise NotAllowed({"team": [f"You do not lead {team}."]})
    if collector is not None and collector.pk != actor.pk:
        in_led_team = Team.members.through.objects.filter(team_id__in=led, user_id=collector.pk).exists()
        if not in_led_team:
            raise NotAllowed({"collector": [f"{collector} is not a member of a team you lead."]})
    return led


def _write(cases: list[CollectionCase], assignments: list[Assignment], *, actor, reason: str) -> None:
    if not cases:
        return
    bulk_update_with_history(
        cases,
        CollectionCase,
        ["assigned_to", "team"],
        batch_size=500,
        default_user=actor,
        default_change_reason=reason,
    )
    bulk_create_with_history(
        assignments, Assignment, batch_size=500, default_user=actor, default_change_reason=reason
    )


# --- auto-assignment -------------------------------------------------------


@dataclass(frozen=True)
class CaseFacts:
    """What the rules look at (DESIGN.md ``AssignmentRule``)."""

    stage: str
    bucket: str
    language: str
    region: str


@dataclass
class AutoAssignResult:
    dry_run: bool
    # (case id, collector id, rule id) per case placed, in case id order.
    assigned: list[tuple[int, int, int]] = field(default_factory=list)
    # case id → why it stays unassigned.
    unassigned: dict[int, str] = field(default_factory=dict)

    @property
    def assigned_count(self) -> int:
        return len(self.assigned)

    @property
    def unassigned_count(self) -> int:
        return len(self.unassigned)

    def as_dict(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "assigned": self.assigned_count,
            "unassigned": self.unassigned_count,
            "unassigned_reasons": {str(k): v for k, v in self.unassigned.items()},
        }


def bucket_rank(bucket: str) -> tuple[int, int]:
    """Order bucket labels: current < M1 < … < M6 < M6+ (RULES §1)."""
    if not bucket or bucket == "current":
        return (0, 0)
    label = bucket.removeprefix("M")
    plus = label.endswith("+")
    try:
        return (int(label.rstrip("+")), 1 if plus else 0)
    except ValueError:
        return (0, 0)


def worst_buckets(case_ids: Iterable[int] | QuerySet) -> dict[int, str]:
    """The worst bucket of each case's debts, still-collectible debts first.

    ``case_ids`` may be a queryset of case ids (used as a subquery). One
    query. A case whose debts are all closed reports the worst of them.
    """
    active: dict[int, str] = {}
    closed: dict[int, str] = {}
    if not isinstance(case_ids, QuerySet):
        case_ids = list(case_ids)
    rows = Debt.objects.filter(case_id__in=case_ids).values_list("case_id", "status", "bucket")
    for case_id, status, bucket in rows:
        worst = active if status in Debt.ACTIVE_STATUSES else closed
        if case_id not in worst or bucket_rank(bucket) > bucket_rank(worst[case_id]):
            worst[case_id] = bucket
    return {**closed, **active}


def rule_matches(rule: AssignmentRule, facts: CaseFacts) -> bool:
    """Every non-empty list of the rule must contain the case's value."""
    return all(
        not allowed or value in allowed
        for allowed, value in (
            (rule.stages, facts.stage),
            (rule.buckets, facts.bucket),
            (rule.languages, facts.language),
            (rule.regions, facts.region),
        )
    )


@dataclass
class _Pool:
    """A rule's candidate collectors with their live load for this run."""

    rule: AssignmentRule
    profiles: list[CollectorProfile]  # ordered by user id

    def eligible(self, facts: CaseFacts, load: dict[int, int]) -> list[CollectorProfile]:
        out = []
        for profile in self.profiles:
            if self.rule.match_collector_language and facts.language not in (profile.languages or []):
                continue
            if self.rule.match_collector_region and facts.region not in (profile.regions or []):
                continue
            if load[profile.user_id] >= profile.capacity:
                continue
            out.append(profile)
        return out


def pick_by_workload(candidates: list[CollectorProfile], load: dict[int, int]) -> CollectorProfile:
    """Lowest open cases ÷ capacity; ties go to the lowest user id."""
    return min(candidates, key=lambda p: (Fraction(load[p.user_id], p.capacity), p.user_id))


def pick_round_robin(candidates: list[CollectorProfile], last_user_id: int | None) -> CollectorProfile:
    """The first candidate after ``last_user_id`` by user id, wrapping round.

    ``candidates`` are the ones with room left, so full collectors are skipped.
    """
    ordered = sorted(candidates, key=lambda p: p.user_id)
    if last_user_id is not None:
        for profile in ordered:
            if profile.user_id > last_user_id:
                return profile
    return ordered[0]


def auto_assign(*, actor, cases=None, dry_run: bool = False) -> AutoAssignResult:
    """Place unassigned open cases (all of them, or those of ``cases``) by the rules.

    For each case, in id order, the first active rule (by ``order``) whose
    stages, buckets, languages and regions match decides: a collector of the
    rule's team with an active ``CollectorProfile``, speaking the customer's
    language (if the rule asks), covering their region (if the rule asks)
    and under capacity, chosen by the rule's strategy. When that rule has
    nobody eligible, the case stays unassigned and the reason is reported;
    later rules are not tried (the first match decides, so routing is
    predictable).

    Loads are counted once per run (one aggregate query) and kept up to date
    in memory; the collectors' profiles are locked so two runs cannot both
    fill the last free slot. ``dry_run`` computes the same answer and writes
    nothing. ``actor`` must be the system user, a superuser, a Supervisor or
    an Administrator.
    """
    if not (_is_system(actor) or can_assign_any_case(actor)):
        raise NotAllowed({"actor": ["You may not run auto-assignment."]})
    result = AutoAssignResult(dry_run=dry_run)
    with transaction.atomic():
        rules = list(
            AssignmentRule.objects.select_for_update(of=("self",))
            .filter(active=True)
            .select_related("team")
            .prefetch_related("team__members")
            .order_by("order", "id")
        )
        candidates = CollectionCase.objects.filter(assigned_to__isnull=True).exclude(stage=CLOSED)
        requested: list[int] | None = None
        if cases is not None:
            requested = case_ids_of(cases)
            candidates = candidates.filter(pk__in=requested)
        locked = list(candidates.select_for_update(of=("self",)).select_related("customer").order_by("pk"))
        if requested is not None:
            found = {c.pk for c in locked}
            for case_id in sorted(set(requested) - found):
                result.unassigned[case_id] = "closed, already assigned or unknown"
        if not locked:
            return result
        if not rules:
            for case in locked:
                result.unassigned[case.pk] = "no active assignment rule"
            return result

        member_ids = {m.pk for rule in rules for m in rule.team.members.all() if m.is_active}
        profiles = {
            p.user_id: p
            for p in CollectorProfile.objects.select_for_update(of=("self",))
            .filter(user_id__in=member_ids, active=True, capacity__gt=0)
            .order_by("user_id")
        }
        load: dict[int, int] = defaultdict(int)
        load.update(
            CollectionCase.objects.filter(assigned_to_id__in=list(profiles))
            .exclude(stage=CLOSED)
            .order_by()
            .values("assigned_to_id")
            .annotate(n=Count("id"))
            .values_list("assigned_to_id", "n")
        )
        pools = [
            _Pool(
                rule=rule,
                profiles=[
                    profiles[m.pk]
                    for m in sorted(rule.team.members.all(), key=lambda u: u.pk)
                    if m.pk in profiles
                ],
            )
            for rule in rules
        ]
        buckets = worst_buckets(candidates.order_by().values("pk"))
        last_assigned = {rule.pk: rule.last_assigned_id for rule in rules}

        changed: list[CollectionCase] = []
        assignments: list[Assignment] = []
        for case in locked:
            facts = CaseFacts(
                stage=case.stage,
                bucket=buckets.get(case.pk, "current"),
                language=case.customer.preferred_language,
                region=case.customer.region,
            )
            pool = next((p for p in pools if rule_matches(p.rule, facts)), None)
            if pool is None:
                result.unassigned[case.pk] = "no rule matches"
                continue
            eligible = pool.eligible(facts, load)
            if not eligible:
                result.unassigned[case.pk] = f"no eligible collector under rule {pool.rule.name}"
                continue
            if pool.rule.strategy == AssignmentRule.Strategy.ROUND_ROBIN:
                chosen = pick_round_robin(eligible, last_assigned[pool.rule.pk])
                last_assigned[pool.rule.pk] = chosen.user_id
            else:
                chosen = pick_by_workload(eligible, load)
            load[chosen.user_id] += 1
            result.assigned.append((case.pk, chosen.user_id, pool.rule.pk))
            reason = f"auto-assignment: {pool.rule.name}"
            assignments.append(
                record(
                    Assignment(
                        case=case,
                        collector_id=chosen.user_id,
                        team_id=pool.rule.team_id,
                        previous_collector_id=None,
                        assigned_by=actor,
                        rule=pool.rule,
                        reason=reason,
                    ),
                    actor=actor,
                    reason=reason,
                )
            )
            case.assigned_to_id = chosen.user_id
            case.team_id = pool.rule.team_id
            changed.append(record(case, actor=actor, reason=reason))

        if dry_run:
            return result
        _write(changed, assignments, actor=actor, reason="auto-assignment")
        for rule in rules:
            if last_assigned[rule.pk] != rule.last_assigned_id:
                rule.last_assigned_id = last_assigned[rule.pk]
                record(rule, actor=actor, reason=f"auto-assignment: {rule.name}")
                rule.save(update_fields=["last_assigned"])
    return result
