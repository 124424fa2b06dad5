"""Who sees which legal matters (``legal.access``), and what legal staff may not do."""

from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from cases.models import Debt, Payment
from legal.access import deadlines_for, matters_for
from legal.models import Deadline, LegalMatter

pytest_plugins = ["tests.personas"]

EVERY = {"legal", "compliance", "supervisor", "administrator", "superuser"}
NONE = {"agency", "outsider"}


@pytest.fixture
def matters(world):
    """A matter on case A (the collector's) and one on case B (collector2's)."""
    made = {}
    for letter in "AB":
        case = world.cases[letter]
        matter = LegalMatter.objects.create(
            case=case,
            claim_amount=Decimal("1000.00"),
            currency="CNY",
            referred_on=date(2026, 3, 1),
            stage_changed_on=date(2026, 3, 1),
        )
        matter.debts.set(case.debts.all())
        Deadline.objects.create(matter=matter, kind=Deadline.Kind.OTHER, due_on=date(2026, 4, 1))
        made[letter] = matter
    return made


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize("persona", sorted(EVERY | NONE | {"collector", "collector2", "team_lead"}))
def test_matters_each_persona_sees(personas, world, matters, persona):
    user = world.fresh(personas[persona])
    seen = set(matters_for(user).values_list("pk", flat=True))
    if persona in EVERY:
        expected = {m.pk for m in matters.values()}
    elif persona in NONE:
        expected = set()
    else:
        expected = {matters[letter].pk for letter in world.CASES_SEEN[persona] if letter in matters}
    assert seen == expected
    assert set(deadlines_for(user).values_list("matter_id", flat=True)) == expected


def test_a_collector_cannot_see_a_matter_of_a_case_not_assigned_to_them(personas, world, matters):
    collector = world.fresh(personas["collector"])
    assert not matters_for(collector).filter(pk=matters["B"].pk).exists()
    assert matters_for(collector).filter(pk=matters["A"].pk).exists()


def test_the_api_hides_other_collectors_matters(personas, world, matters):
    api = client_for(world.fresh(personas["collector"]))
    listed = api.get("/api/v1/legal/matters/").json()["results"]
    assert [m["id"] for m in listed] == [matters["A"].pk]
    assert api.get(f"/api/v1/legal/matters/{matters['B'].pk}/").status_code == 404
    deadlines = api.get(f"/api/v1/legal/deadlines/?matter={matters['B'].pk}").json()["results"]
    assert deadlines == []


def test_legal_cannot_post_payments(personas, world):
    legal = world.fresh(personas["legal"])
    assert not legal.has_perm("cases.add_payment")
    debt = world.row(Debt, "C")
    before = Payment.objects.count()
    response = client_for(legal).post(
        "/api/v1/payments/",
        {
            "debt": debt.pk,
            "amount": "10.00",
            "currency": debt.currency,
            "received_on": "2026-03-01",
            "channel": "bank_transfer",
            "reference": "LEGAL-TRY-1",
        },
        format="json",
    )
    assert response.status_code == 403
    assert Payment.objects.count() == before


def test_a_collector_cannot_move_a_matter_through_the_api(personas, world, matters):
    api = client_for(world.fresh(personas["collector"]))
    response = api.post(
        f"/api/v1/legal/matters/{matters['A'].pk}/transition/",
        {"stage": "filed", "reason": "x", "on": "2026-03-02"},
        format="json",
    )
    assert response.status_code == 403
    matters["A"].refresh_from_db()
    assert matters["A"].stage == LegalMatter.Stage.DEMAND_LETTER
