"""What ``setup_roles`` gives for outside agencies (backoffice.roles)."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from backoffice import roles

pytestmark = pytest.mark.django_db


def _perms(name: str) -> set[str]:
    group = Group.objects.get(name=name)
    return {
        f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")
    }


def test_supervisors_run_agencies_and_place_and_recall():
    call_command("setup_roles")
    writes = {
        p
        for p in _perms(roles.SUPERVISOR)
        if p.startswith("agencies.") and not p.split(".")[1].startswith("view_")
    }
    assert writes == {
        "agencies.add_agency",
        "agencies.change_agency",
        "agencies.add_agencycommissionrate",
        "agencies.change_agencycommissionrate",
        "agencies.delete_agencycommissionrate",
        "agencies.add_agencymember",
        "agencies.change_agencymember",
        "agencies.delete_agencymember",
        "agencies.add_agencyplacement",
        "agencies.change_agencyplacement",
    }


def test_agency_staff_read_their_agency_and_not_the_lenders_internals():
    call_command("setup_roles")
    agency = _perms(roles.AGENCY)
    assert {p for p in agency if p.startswith("agencies.")} == {
        "agencies.view_agency",
        "agencies.view_agencyplacement",
    }
    assert not {"cases.view_assignment", "cases.view_watchlistentry", "cases.add_payment"} & agency
    assert {"cases.add_contactattempt", "cases.add_promisetopay"} <= agency
