"""``manage.py setup_roles`` creates the role groups and keeps them in step."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from backoffice import roles

pytestmark = pytest.mark.django_db


def _perms(name: str) -> set[str]:
    group = Group.objects.get(name=name)
    return {
        f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")
    }


def test_creates_every_role_group():
    call_command("setup_roles", stdout=None)
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ROLE_NAMES)
    assert set(roles.ROLE_NAMES) == {
        "Collector",
        "Team lead",
        "Legal",
        "Compliance",
        "Supervisor",
        "Administrator",
        "Agency",
    }


def test_second_run_changes_nothing():
    call_command("setup_roles")
    before = {name: _perms(name) for name in roles.ROLE_NAMES}
    call_command("setup_roles")
    assert Group.objects.filter(name__in=roles.ROLE_NAMES).count() == len(roles.ROLE_NAMES)
    assert {name: _perms(name) for name in roles.ROLE_NAMES} == before


def test_rerun_restores_permissions_changed_by_hand():
    call_command("setup_roles")
    collector = Group.objects.get(name=roles.COLLECTOR)
    collector.permissions.add(Permission.objects.get(codename="delete_debt"))
    collector.permissions.remove(Permission.objects.get(codename="add_payment"))
    call_command("setup_roles")
    assert "cases.delete_debt" not in _perms(roles.COLLECTOR)
    assert "cases.add_payment" in _perms(roles.COLLECTOR)


def test_rerun_applies_a_changed_mapping(monkeypatch):
    call_command("setup_roles")
    changed = dict(roles.ROLE_PERMISSIONS)
    changed[roles.LEGAL] = roles.ROLE_PERMISSIONS[roles.LEGAL] | {"cases.view_payment"}
    monkeypatch.setattr(roles, "ROLE_PERMISSIONS", changed)
    call_command("setup_roles")
    assert "cases.view_payment" in _perms(roles.LEGAL)


def test_unknown_permission_in_mapping_fails_loudly(monkeypatch):
    from django.core.management.base import CommandError

    changed = dict(roles.ROLE_PERMISSIONS)
    changed[roles.LEGAL] = frozenset({"cases.view_debtt"})
    monkeypatch.setattr(roles, "ROLE_PERMISSIONS", changed)
    with pytest.raises(CommandError, match="view_debtt"):
        call_command("setup_roles")
    assert not Group.objects.filter(name=roles.COLLECTOR).exists()


def test_role_permissions_follow_the_brief():
    call_command("setup_roles")
    collector = _perms(roles.COLLECTOR)
    assert {
        "customers.view_customer",
        "customers.view_contactpoint",
        "customers.view_thirdpartycontact",
        "cases.view_debt",
        "cases.view_payment",
        "cases.view_ledgerentry",
        "cases.view_collectioncase",
        "customers.add_contactpoint",
        "cases.add_payment",
    } <= collector
    assert "customers.view_full_id" not in collector
    assert not any(p.split(".")[1].startswith(("change_", "delete_")) for p in collector)
    team_lead = _perms(roles.TEAM_LEAD)
    assert collector <= team_lead
    assert "cases.change_collectioncase" in team_lead
    legal = _perms(roles.LEGAL)
    assert {
        "cases.view_collectioncase",
        "cases.view_debt",
        "customers.view_customer",
        "cases.view_ledgerentry",
    } <= legal
    for role in (roles.COMPLIANCE, roles.SUPERVISOR):
        perms = _perms(role)
        assert "customers.view_full_id" in perms
        assert {"cases.view_payment", "customers.view_thirdpartycontact", "cases.view_team"} <= perms
    assert not any(
        p.split(".")[1].startswith(("add_", "change_", "delete_")) for p in _perms(roles.COMPLIANCE)
    )
    every = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Permission.objects.filter(content_type__app_label__in=roles.DOMAIN_APPS).select_related(
            "content_type"
        )
    }
    assert _perms(roles.ADMINISTRATOR) == every
