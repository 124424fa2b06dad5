"""Who sees placement files and layouts, and who may upload (``backoffice.access``)."""

import pytest

from backoffice import access
from cases.placements.models import PlacementFile, PlacementLayout
from tests.factories import CreditorFactory

pytest_plugins = ["tests.personas"]
pytestmark = pytest.mark.django_db

SEES_FILES = {"compliance", "supervisor", "administrator", "superuser"}
UPLOADS = {"supervisor", "administrator", "superuser"}
SEES_LAYOUTS = {"compliance", "supervisor", "administrator", "superuser"}


def fresh(user):
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def placement_rows(db):
    creditor = CreditorFactory()
    layout = PlacementLayout.objects.create(creditor=creditor)
    placement_file = PlacementFile.objects.create(
        creditor=creditor, original_name="a.csv", sha256="0" * 64, business_date="2026-05-01"
    )
    return layout, placement_file


def test_placement_files_are_seen_by_the_roles_that_see_every_case(world, personas, placement_rows):
    _layout, placement_file = placement_rows
    for name in world.PERSONAS:
        got = set(access.placement_files_for(fresh(personas[name])).values_list("pk", flat=True))
        assert got == ({placement_file.pk} if name in SEES_FILES else set()), name


def test_layouts_are_reference_data_for_the_view_permission(world, personas, placement_rows):
    layout, _file = placement_rows
    for name in world.PERSONAS:
        got = set(access.placement_layouts_for(fresh(personas[name])).values_list("pk", flat=True))
        assert got == ({layout.pk} if name in SEES_LAYOUTS else set()), name


def test_only_administrators_and_supervisors_may_upload(world, personas):
    allowed = {name for name in world.PERSONAS if access.may_upload_placements(fresh(personas[name]))}
    assert allowed == UPLOADS


def test_an_inactive_supervisor_may_not_upload(world, personas):
    supervisor = fresh(personas["supervisor"])
    supervisor.is_active = False
    assert not access.may_upload_placements(supervisor)
    assert not access.placement_files_for(supervisor).exists()


def test_setup_roles_gives_supervisors_only_the_upload_among_placement_writes(db):
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    call_command("setup_roles", verbosity=0)
    codenames = set(
        Group.objects.get(name="Supervisor")
        .permissions.filter(content_type__app_label="placements")
        .exclude(codename__startswith="view_")
        .values_list("codename", flat=True)
    )
    assert codenames == {"add_placementfile"}
