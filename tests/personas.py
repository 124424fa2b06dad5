"""Personas and a small world for access tests (STYLE.md, "Persona tests").

A pytest plugin: a test module that needs it says
``pytest_plugins = ["tests.personas"]``.

Roles are the real groups made by ``manage.py setup_roles``; each persona
is a staff user in one of them:

- ``collector`` (member of team T), ``collector2`` (no team);
- ``team_lead`` (leads team T); ``legal``; ``compliance``; ``supervisor``;
  ``administrator``; ``agency``; ``payments`` (back-office finance staff);
- ``superuser``; ``outsider`` (staff, no group, no permission).

Both are built once per test module (see ``_persona_world``). The world
(``world`` fixture) has three cases, each with one debt placed
through ``place_debt`` (its instalments and ledger), a contact point, a third
party, a payment (``post_payment``), an assignment row, a contact attempt, a
promise, a payment plan with one instalment, a pending settlement, a
*resolved* dispute (no hold) and a pending payment claim (issue #14):

- case A: assigned to ``collector``, team T, stage ``soft``;
- case B: assigned to ``collector2``, no team, stage ``soft``;
- case C: unassigned, stage ``legal``.

Case B is also placed with "World agency", the agency persona's agency
(outside agencies, issue #9).

``CASES_SEEN`` says which cases each persona sees; tests build every other
expectation from it.

The fixture names ``outsider`` and ``administrator`` are also defined by
``tests/api/conftest.py`` (which wins there); tests that may run there use
``personas[...]``.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from backoffice import roles
from cases.models import (
    Assignment,
    AssignmentRule,
    BulkSettlementOffer,
    CollectionCase,
    CollectorProfile,
    ContactAttempt,
    Dispute,
    DunningFiring,
    DunningStep,
    Message,
    MessageTemplate,
    PaymentClaim,
    PaymentPlan,
    PlanInstalment,
    PromiseToPay,
    RiskModel,
    Settlement,
    Team,
    WatchListEntry,
)
from cases.services.payments import post_payment
from tests.factories import (
    ContactPointFactory,
    ProductFactory,
    ThirdPartyContactFactory,
    UserFactory,
    make_debt,
)

# persona → role group (``None``: no group)
PERSONA_ROLES: dict[str, str | None] = {
    "collector": roles.COLLECTOR,
    "collector2": roles.COLLECTOR,
    "team_lead": roles.TEAM_LEAD,
    "legal": roles.LEGAL,
    "compliance": roles.COMPLIANCE,
    "supervisor": roles.SUPERVISOR,
    "administrator": roles.ADMINISTRATOR,
    "agency": roles.AGENCY,
    "payments": roles.PAYMENTS,
    "superuser": None,
    "outsider": None,
}
PERSONAS = tuple(PERSONA_ROLES)

ALL_CASES = frozenset("ABC")
# Which of the world's cases each persona sees (DESIGN.md, Access).
CASES_SEEN: dict[str, frozenset[str]] = {
    "collector": frozenset("A"),
    "collector2": frozenset("B"),
    "team_lead": frozenset("A"),
    "legal": frozenset("C"),
    "compliance": ALL_CASES,
    "supervisor": ALL_CASES,
    "administrator": ALL_CASES,
    # Case B is placed with the agency persona's agency (``make_world``).
    "agency": frozenset("B"),
    # Finance staff check money on every account (their permissions keep
    # them to debts, ledgers, payments and claims).
    "payments": ALL_CASES,
    "superuser": ALL_CASES,
    "outsider": frozenset(),
}

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class World:
    """The world's rows by model and case: ``rows[Model]["A"]`` lists case A's
    rows of that model. Test modules reach the tables above through it
    (``world.CASES_SEEN``) so they need not import this plugin module."""

    cases: dict[str, CollectionCase]
    rows: dict[type, dict[str, list]] = field(default_factory=dict)
    team: Team | None = None
    # Rows that belong to no case (reference data, users, groups).
    shared: dict[type, object] = field(default_factory=dict)

    PERSONAS = PERSONAS
    PERSONA_ROLES = PERSONA_ROLES
    CASES_SEEN = CASES_SEEN
    ALL_CASES = ALL_CASES

    def add(self, letter: str, *objs) -> None:
        for obj in objs:
            self.rows.setdefault(type(obj), {}).setdefault(letter, []).append(obj)

    def pks(self, model, letters) -> set[int]:
        return {
            obj.pk for letter, objs in self.rows.get(model, {}).items() if letter in letters for obj in objs
        }

    def row(self, model, letter: str):
        """Case ``letter``'s first row of ``model``."""
        return self.rows[model][letter][0]

    def letter_of(self, model, pk) -> str | None:
        for letter, objs in self.rows.get(model, {}).items():
            if any(obj.pk == pk for obj in objs):
                return letter
        return None

    def some_row(self, model):
        """A row of ``model`` in the world (case A's first), or ``None``."""
        by_case = self.rows.get(model)
        if by_case:
            return by_case[sorted(by_case)[0]][0]
        return self.shared.get(model)

    @staticmethod
    def fresh(user):
        """The same user re-read: no cached permissions or roles."""
        return type(user).objects.get(pk=user.pk)


def make_personas() -> dict[str, object]:
    """Run ``setup_roles`` and create one user per persona."""
    call_command("setup_roles", stdout=StringIO())
    users = {}
    for name, role in PERSONA_ROLES.items():
        user = UserFactory(username=f"p_{name}", is_superuser=name == "superuser")
        if role is not None:
            user.groups.add(Group.objects.get(name=role))
        users[name] = user
    return users


fresh = World.fresh


def make_world(users: dict[str, object]) -> World:
    """Cases A, B, C and their rows (see the module docstring)."""
    team = Team.objects.create(name="T", lead=users["team_lead"])
    team.members.add(users["collector"])
    product = ProductFactory()
    template = MessageTemplate.objects.create(
        code="reminder", channel="sms", language="zh-hans", body="{{ x }}"
    )
    step = DunningStep.objects.create(
        policy=product.policy,
        name="SMS reminder",
        action=DunningStep.Action.values[0],
        template_code="reminder",
    )
    RiskModel.objects.create(
        version=1, as_of=date(2026, 1, 31), trained_from=date(2025, 6, 1), trained_to=date(2026, 1, 31)
    )
    placement = {
        "A": {"assigned_to": users["collector"], "team": team, "stage": CollectionCase.Stage.SOFT},
        "B": {"assigned_to": users["collector2"], "team": None, "stage": CollectionCase.Stage.SOFT},
        "C": {"assigned_to": None, "team": None, "stage": CollectionCase.Stage.LEGAL},
    }
    actor = users["superuser"]
    world = World(cases={}, team=team)
    for letter, values in placement.items():
        debt = make_debt(product=product, opened_on=date(2026, 1, 1), actor=actor)
        CollectionCase.objects.filter(pk=debt.case_id).update(**values)
        case = CollectionCase.objects.get(pk=debt.case_id)
        debt.refresh_from_db()
        world.cases[letter] = case
        world.add(letter, case)
        world.add(letter, case.customer)
        world.add(letter, debt)
        world.add(letter, *debt.instalments.all())
        point = ContactPointFactory(customer=case.customer)
        world.add(letter, point)
        world.add(letter, ThirdPartyContactFactory(customer=case.customer))
        world.add(
            letter,
            post_payment(
                debt=debt,
                amount=Decimal("100.00"),
                received_on=date(2026, 1, 15),
                reference=f"PERSONA-{letter}",
                actor=actor,
            ).payment,
        )
        world.add(letter, *debt.ledger_entries.all())
        world.add(
            letter,
            PaymentClaim.objects.create(
                debt=debt,
                amount=Decimal("20.00"),
                currency=debt.currency,
                received_on=date(2026, 1, 16),
                channel="cash",
                reference=f"PERSONA-CLAIM-{letter}",
                claimed_by=values["assigned_to"] or users["team_lead"],
            ),
        )
        world.add(
            letter,
            WatchListEntry.objects.create(debt=debt, reasons=["broken_promise"], since=date(2026, 2, 1)),
        )
        world.add(
            letter,
            Assignment.objects.create(
                case=case, collector=values["assigned_to"], team=values["team"], reason="world"
            ),
        )
        contact = ContactAttempt.objects.create(
            case=case,
            debt=debt,
            contact_point=point,
            channel=ContactAttempt.Channel.CALL,
            outcome=ContactAttempt.Outcome.PROMISE,
            started_at=timezone.make_aware(datetime(2026, 1, 20, 10, 0)),
        )
        world.add(letter, contact)
        world.add(
            letter,
            PromiseToPay.objects.create(
                case=case, debt=debt, contact=contact, amount=Decimal("50.00"), due_on=date(2026, 2, 1)
            ),
        )
        plan = PaymentPlan.objects.create(case=case, debt=debt, total=Decimal("600.00"))
        world.add(letter, plan)
        world.add(
            letter,
            PlanInstalment.objects.create(
                plan=plan, number=1, due_on=date(2026, 3, 1), amount=Decimal("600.00")
            ),
        )
        world.add(
            letter,
            Settlement.objects.create(
                case=case,
                debt=debt,
                balance_at_offer=Decimal("3000.00"),
                discount_percent=Decimal("10.00"),
                amount=Decimal("2700.00"),
                valid_until=date(2026, 12, 31),
                status=Settlement.Status.PENDING_APPROVAL,
            ),
        )
        world.add(
            letter,
            Dispute.objects.create(
                case=case,
                debt=debt,
                raised_via=Dispute.Via.PHONE,
                reason="world",
                opened_on=date(2026, 1, 10),
                due_on=date(2026, 2, 9),
                status=Dispute.Status.RESOLVED,
                outcome=Dispute.Outcome.VERIFIED,
                resolved_on=date(2026, 1, 12),
            ),
        )
        message = Message.objects.create(
            case=case,
            debt=debt,
            contact_point=point,
            channel="sms",
            template=template,
            language="zh-hans",
            recipient=point.value,
            body="world",
            idempotency_key=f"persona-{letter}",
            dunning_step=step,
        )
        world.add(letter, message)
        world.add(
            letter,
            DunningFiring.objects.create(
                step=step,
                debt=debt,
                cycle="2026-01-01",
                status=DunningFiring.Status.values[0],
                message=message,
                fired_on=date(2026, 1, 5),
            ),
        )
    world.shared[Team] = team
    world.shared[MessageTemplate] = template
    world.shared[DunningStep] = step
    world.shared[type(product)] = product
    world.shared[type(product.creditor)] = product.creditor
    world.shared[type(product.policy)] = product.policy
    world.shared[CollectorProfile] = CollectorProfile.objects.create(user=users["collector"])
    world.shared[AssignmentRule] = AssignmentRule.objects.create(name="T rule", team=team)
    world.shared[BulkSettlementOffer] = BulkSettlementOffer.objects.create(
        name="T small balances",
        policy=product.policy,
        balance_max=Decimal("200.00"),
        discount_percent=Decimal("30.00"),
        expires_on=date(2026, 12, 31),
    )
    world.shared[type(users["collector"])] = users["collector"]
    world.shared[Group] = Group.objects.get(name=roles.COLLECTOR)
    _place_with_the_agency(world, users)
    return world


def _place_with_the_agency(world: World, users: dict[str, object]) -> None:
    """Outside agencies (issue #9): the agency persona works for agency
    "World agency", and case B is placed with it (an open placement that
    shares the lender's contact history), so agency staff see exactly
    case B."""
    from cases.agencies.models import Agency, AgencyCommissionRate, AgencyMember
    from cases.agencies.services import place_with_agency

    agency = Agency.objects.create(name="World agency", licence_number="WA-001")
    for bucket in ("current", "M1", "M2", "M3", "M4", "M5", "M6", "M6+"):
        AgencyCommissionRate.objects.create(agency=agency, bucket=bucket, rate_percent=Decimal("15.00"))
    AgencyMember.objects.create(user=users["agency"], agency=agency)
    (placement,) = place_with_agency(
        cases=[world.cases["B"]],
        agency=agency,
        start_on=date(2026, 2, 1),
        end_on=date(2026, 12, 31),
        actor=users["superuser"],
        reason="persona world",
        instructions="Call the debtor only; no visits.",
        share_contact_history=True,
    )
    world.add("B", placement)
    world.shared[Agency] = agency


@pytest.fixture(scope="module")
def _persona_world(django_db_setup, django_db_blocker):
    """Personas and world, built once per test module inside a transaction
    that is rolled back when the module is done. Each test runs in its own
    savepoint inside it (pytest-django's ``db``), so a test may change rows
    freely; it must re-read users (``World.fresh``) rather than trust cached
    permissions on the shared objects."""
    atomic = transaction.atomic()
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        atomic.__enter__()
        try:
            users = make_personas()
            world = make_world(users)
        except BaseException:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            raise
    yield users, world
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


@pytest.fixture
def personas(_persona_world, db) -> dict[str, object]:
    """Every persona by name (see ``PERSONA_ROLES``)."""
    return _persona_world[0]


@pytest.fixture
def world(_persona_world, db) -> World:
    return _persona_world[1]


@pytest.fixture
def collector(personas):
    return personas["collector"]


@pytest.fixture
def collector2(personas):
    return personas["collector2"]


@pytest.fixture
def team_lead(personas):
    return personas["team_lead"]


@pytest.fixture
def legal(personas):
    return personas["legal"]


@pytest.fixture
def compliance(personas):
    return personas["compliance"]


@pytest.fixture
def supervisor(personas):
    return personas["supervisor"]


@pytest.fixture
def administrator(personas):
    return personas["administrator"]


@pytest.fixture
def agency(personas):
    return personas["agency"]


@pytest.fixture
def outsider(personas):
    return personas["outsider"]
