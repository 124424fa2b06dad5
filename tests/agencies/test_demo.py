"""The demo seed places cases through the real services, once."""

from datetime import date

import pytest

from backoffice import access
from cases.agencies.demo import seed
from cases.agencies.models import AgencyPlacement
from tests.agencies.conftest import case_with_debt

pytestmark = pytest.mark.django_db


def test_seed_places_cases_with_both_agencies_and_runs_once(product, supervisor):
    for bucket in ("M1", "M2", "M3", "M5"):
        case_with_debt(product, bucket=bucket)
    assert seed(business_date=date(2026, 3, 1)) == {"agencies": 2, "placements": 3}
    assert AgencyPlacement.objects.values("agency").distinct().count() == 2
    from django.contrib.auth import get_user_model

    agent = get_user_model().objects.get(username="agency")
    assert access.cases_for(agent).count() == 2
    assert seed(business_date=date(2026, 3, 1)) == {"agencies": 0, "placements": 0}
