"""Placing cases with an agency: what a placement freezes, who may place,
and "at most one agency at a time" (issue #9)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from backoffice.errors import Conflict, NotAllowed
from cases.agencies.models import AgencyPlacement
from cases.agencies.services import PlacementCriteria, cases_matching, place_by_rule, place_with_agency
from cases.models import CollectionCase, Hold
from tests.agencies.conftest import case_with_debt, make_agency

pytestmark = pytest.mark.django_db

FEB = date(2026, 2, 1)
APR = date(2026, 4, 30)


def place(cases, agency, actor, **kwargs):
    kwargs.setdefault("start_on", FEB)
    kwargs.setdefault("end_on", APR)
    kwargs.setdefault("reason", "monthly placement")
    return place_with_agency(cases=cases, agency=agency, actor=actor, **kwargs)


def test_a_placement_freezes_bucket_balance_and_the_buckets_rate(product, agency, supervisor):
    case = case_with_debt(product, bucket="M2")
    (placement,) = place([case], agency, supervisor, instructions="No visits.")
    assert placement.status == AgencyPlacement.Status.OPEN
    assert placement.bucket == "M2"
    assert placement.balance_at_placement == Decimal("3000.00")
    assert placement.commission_rate == Decimal("12.50")
    assert placement.placed_by == supervisor
    assert placement.instructions == "No visits."
    version = placement.history.get()
    assert version.history_user == supervisor and version.history_change_reason == "monthly placement"


def test_editing_a_rate_later_does_not_change_a_placement(product, agency, supervisor):
    case = case_with_debt(product, bucket="M2")
    (placement,) = place([case], agency, supervisor)
    agency.commission_rates.filter(bucket="M2").update(rate_percent=Decimal("30.00"))
    placement.refresh_from_db()
    assert placement.commission_rate == Decimal("12.50")


def test_a_case_already_placed_is_refused_and_nothing_is_written(product, agency, supervisor):
    first = case_with_debt(product)
    second = case_with_debt(product)
    place([first], agency, supervisor)
    other = make_agency("Beta")
    with pytest.raises(Conflict, match="already placed"):
        place([first, second], other, supervisor)
    assert AgencyPlacement.objects.count() == 1
    assert not AgencyPlacement.objects.filter(case=second).exists()


def test_the_database_holds_one_open_placement_per_case(product, agency, supervisor):
    case = case_with_debt(product)
    (placement,) = place([case], agency, supervisor)
    with pytest.raises(IntegrityError), transaction.atomic():
        AgencyPlacement.objects.create(
            agency=make_agency("Beta"),
            case=case,
            start_on=FEB,
            end_on=APR,
            bucket="current",
            balance_at_placement=Decimal("1.00"),
            currency="CNY",
            commission_rate=Decimal("1.00"),
        )
    assert AgencyPlacement.objects.get().pk == placement.pk


def test_only_supervisors_place(product, agency, collector, agent):
    case = case_with_debt(product)
    for user in (collector, agent):
        with pytest.raises(NotAllowed):
            place([case], agency, user)
    assert not AgencyPlacement.objects.exists()


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"stage": CollectionCase.Stage.CLOSED}, "closed"),
        ({"stage": CollectionCase.Stage.LEGAL}, "in legal"),
        ({"holds": [Hold.DISPUTE]}, "on hold"),
    ],
)
def test_closed_legal_and_held_cases_are_not_placed(product, agency, supervisor, change, why):
    case = case_with_debt(product)
    CollectionCase.objects.filter(pk=case.pk).update(**change)
    with pytest.raises(Conflict, match=why):
        place([case], agency, supervisor)
    assert not AgencyPlacement.objects.exists()


def test_a_bucket_without_a_rate_is_refused(product, supervisor):
    agency = make_agency("Gamma")
    agency.commission_rates.filter(bucket="M4").delete()
    case = case_with_debt(product, bucket="M4")
    with pytest.raises(ValidationError, match="no commission rate for bucket"):
        place([case], agency, supervisor)
    assert not AgencyPlacement.objects.exists()


def test_bad_periods_and_inactive_agencies_are_refused(product, agency, supervisor):
    case = case_with_debt(product)
    with pytest.raises(ValidationError, match="cannot end before"):
        place([case], agency, supervisor, start_on=APR, end_on=FEB)
    agency.active = False
    agency.save()
    with pytest.raises(ValidationError, match="does not take new placements"):
        place([case], agency, supervisor)
    with pytest.raises(ValidationError, match="Say why"):
        place([case], make_agency("Delta"), supervisor, reason=" ")
    assert not AgencyPlacement.objects.exists()


def test_a_new_placement_starts_after_the_last_one_ended(product, agency, supervisor):
    """So no payment day counts for two agencies."""
    from cases.agencies.services import recall_placement

    case = case_with_debt(product)
    (first,) = place([case], agency, supervisor)
    recall_placement(placement=first, on=date(2026, 3, 10), actor=supervisor, reason="reshuffle")
    other = make_agency("Beta")
    with pytest.raises(Conflict, match="ended on 2026-03-10"):
        place([case], other, supervisor, start_on=date(2026, 3, 10))
    (second,) = place([case], other, supervisor, start_on=date(2026, 3, 11))
    assert second.agency == other


def test_a_rule_selects_by_bucket_balance_band_region_and_product(product, agency, supervisor):
    from tests.factories import ProductFactory

    wanted = case_with_debt(product, bucket="M2", region="Guangdong")
    case_with_debt(product, bucket="M1", region="Guangdong")  # wrong bucket
    case_with_debt(product, bucket="M2", region="Hunan")  # wrong region
    case_with_debt(ProductFactory(), bucket="M2", region="Guangdong")  # wrong product
    big = case_with_debt(product, bucket="M2", region="Guangdong")
    big_debt = big.debts.get()
    big_debt.principal_balance = Decimal("9000.00")
    type(big_debt).objects.filter(pk=big_debt.pk).update(principal_balance=Decimal("9000.00"))
    criteria = PlacementCriteria(
        buckets=["M2"],
        min_balance=Decimal("1000.00"),
        max_balance=Decimal("5000.00"),
        regions=["Guangdong"],
        product_ids=[product.pk],
    )
    assert list(cases_matching(criteria).values_list("pk", flat=True)) == [wanted.pk]
    placed = place_by_rule(
        criteria=criteria, agency=agency, start_on=FEB, end_on=APR, actor=supervisor, reason="rule M2 GD"
    )
    assert [p.case_id for p in placed] == [wanted.pk]
    # Placed cases no longer match: running the rule again places nothing.
    with pytest.raises(ValidationError, match="No eligible case"):
        place_by_rule(
            criteria=criteria, agency=agency, start_on=FEB, end_on=APR, actor=supervisor, reason="again"
        )
