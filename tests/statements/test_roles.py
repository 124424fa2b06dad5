"""The statement permissions each role holds after ``setup_roles``."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from backoffice import roles

pytestmark = pytest.mark.django_db


def statement_perms(role):
    group = Group.objects.get(name=role)
    return {
        p.codename
        for p in group.permissions.filter(content_type__app_label="statements")
        if "historical" not in p.codename
    }


def writes(perms):
    return {p for p in perms if p.startswith(("add_", "change_", "delete_"))}


def test_supervisors_import_files_and_work_the_queue_but_do_not_edit_sources():
    call_command("setup_roles", verbosity=0)
    assert writes(statement_perms(roles.SUPERVISOR)) == {
        "add_statementfile",
        "change_statementline",
        "change_suspenseline",
    }


def test_administrators_hold_every_statement_permission_and_compliance_only_reads():
    call_command("setup_roles", verbosity=0)
    assert {"add_statementsource", "change_statementsource", "add_statementfile"} <= statement_perms(
        roles.ADMINISTRATOR
    )
    assert writes(statement_perms(roles.COMPLIANCE)) == set()
    assert "view_suspenseline" in statement_perms(roles.COMPLIANCE)


@pytest.mark.parametrize("role", [roles.COLLECTOR, roles.TEAM_LEAD, roles.LEGAL, roles.AGENCY])
def test_working_roles_hold_no_statement_permission(role):
    call_command("setup_roles", verbosity=0)
    assert statement_perms(role) == set()
