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
        "Payments",
        "Integration",
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
    collector.permissions.remove(Permission.objects.get(codename="add_paymentclaim"))
    call_command("setup_roles")
    assert "cases.delete_debt" not in _perms(roles.COLLECTOR)
    assert "cases.add_paymentclaim" in _perms(roles.COLLECTOR)


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


def _writes(perms: set[str]) -> set[str]:
    return {p for p in perms if p.split(".")[1].startswith(("add_", "change_", "delete_"))}


WORK_MODELS = ("contactattempt", "promisetopay", "paymentplan", "settlement", "dispute")


def test_collectors_read_their_screens_and_do_collection_work():
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
        "cases.view_assignment",
        "cases.view_planinstalment",
    } <= collector
    assert {f"cases.view_{m}" for m in WORK_MODELS} <= collector
    assert "customers.view_full_id" not in collector
    # Maker–checker (issue #14): a collector records payment claims and
    # never posts to the ledger or approves.
    assert "cases.view_paymentclaim" in collector
    assert not {"cases.add_payment", "cases.approve_payment"} & collector
    # Cancelling a promise or a plan is a change; nothing else is.
    assert _writes(collector) == {
        "customers.add_contactpoint",
        "cases.add_paymentclaim",
        *(f"cases.add_{m}" for m in WORK_MODELS),
        "cases.change_promisetopay",
        "cases.change_paymentplan",
    }


def test_team_leads_add_assignment_and_settlement_approval():
    call_command("setup_roles")
    team_lead = _perms(roles.TEAM_LEAD)
    assert _perms(roles.COLLECTOR) <= team_lead
    assert _writes(team_lead) - _writes(_perms(roles.COLLECTOR)) == {
        "cases.change_collectioncase",
        "cases.change_settlement",
    }
    assert {"cases.view_team", "cases.view_assignmentrule", "cases.view_collectorprofile"} <= team_lead
    assert "customers.view_full_id" not in team_lead
    assert {"cases.add_paymentclaim", "cases.view_paymentclaim"} <= team_lead
    assert not {"cases.add_payment", "cases.approve_payment"} & team_lead


def test_legal_reads_the_case_and_owns_the_legal_app():
    call_command("setup_roles")
    legal = _perms(roles.LEGAL)
    assert {
        "cases.view_collectioncase",
        "cases.view_debt",
        "customers.view_customer",
        "cases.view_ledgerentry",
        "cases.view_contactattempt",
    } <= legal
    assert "cases.view_payment" not in legal
    assert {p for p in _writes(legal) if not p.startswith("legal.")} == set()


def test_compliance_reads_everything_and_only_resolves_disputes():
    call_command("setup_roles")
    compliance = _perms(roles.COMPLIANCE)
    assert "customers.view_full_id" in compliance
    assert {"cases.view_payment", "customers.view_thirdpartycontact", "cases.view_team"} <= compliance
    assert {f"cases.view_{m}" for m in WORK_MODELS} <= compliance
    assert _writes(compliance) == {"cases.change_dispute"}


def test_supervisors_assign_approve_and_run_teams():
    call_command("setup_roles")
    supervisor = _perms(roles.SUPERVISOR)
    every_view = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Permission.objects.filter(
            content_type__app_label__in=roles.DOMAIN_APPS, codename__startswith="view_"
        ).select_related("content_type")
    }
    assert every_view <= supervisor
    # The outside agencies' writes: tests/agencies/test_roles.py; statement
    # files and the suspense queue: tests/statements/test_roles.py; placement
    # file uploads: tests/placements/test_access.py.
    assert {
        p for p in _writes(supervisor) if not p.startswith(("agencies.", "statements.", "placements."))
    } == {
        "cases.change_collectioncase",
        "cases.change_settlement",
        "cases.add_team",
        "cases.change_team",
        "cases.add_assignmentrule",
        "cases.change_assignmentrule",
        "cases.add_collectorprofile",
        "cases.change_collectorprofile",
        "cases.add_bulksettlementoffer",
        "cases.change_bulksettlementoffer",
    }
    assert "cases.approve_bulksettlementoffer" in supervisor
    # Supervisors approve payment claims; they do not post payments themselves.
    assert "cases.approve_payment" in supervisor
    assert "cases.add_payment" not in supervisor


def test_payments_staff_see_money_and_approve_claims_and_nothing_else():
    call_command("setup_roles")
    payments = _perms(roles.PAYMENTS)
    assert {"cases.view_payment", "cases.view_paymentclaim", "cases.view_debt", "cases.approve_payment"} <= (
        payments
    )
    # They check and approve; they neither post nor record claims, and read
    # no customer data or collection work.
    assert _writes(payments) == set()
    assert not {p for p in payments if p.startswith("customers.")}
    assert not {f"cases.view_{m}" for m in WORK_MODELS} & payments


def test_agency_staff_work_like_collectors_without_payments():
    call_command("setup_roles")
    agency = _perms(roles.AGENCY)
    # Not the lender's internal routing or watch list; their own agency's
    # rows (tests/agencies/test_roles.py).
    hidden = {
        "cases.add_paymentclaim",
        "cases.view_paymentclaim",
        "cases.view_assignment",
        "cases.view_watchlistentry",
    }
    core = ("cases.", "customers.")
    collector = {p for p in _perms(roles.COLLECTOR) if p.startswith(core)}
    assert {p for p in agency if p.startswith(core)} == collector - hidden


def test_administrators_hold_every_domain_permission():
    call_command("setup_roles")
    every = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Permission.objects.filter(content_type__app_label__in=roles.DOMAIN_APPS).select_related(
            "content_type"
        )
    }
    # The security screens (issue #14): login lockouts (read, and lift one by
    # deleting its attempt), API tokens (read, revoke) and second-factor
    # devices (read, delete a lost one); never add or change.
    lockouts_and_tokens = {
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
        "axes.view_accesslog",
        "axes.view_accessfailurelog",
        "knox.view_authtoken",
        "knox.delete_authtoken",
        "otp_totp.view_totpdevice",
        "otp_totp.delete_totpdevice",
        "otp_static.view_staticdevice",
        "otp_static.delete_staticdevice",
    }
    assert lockouts_and_tokens <= _perms(roles.ADMINISTRATOR)
    # Plus reading the access records, as everyone who reads the audit trail.
    assert _perms(roles.ADMINISTRATOR) - lockouts_and_tokens == every | {"backoffice.view_accessrecord"}


def test_integration_service_users_place_accounts_post_payments_and_send_files():
    call_command("setup_roles")
    integration = _perms(roles.INTEGRATION)
    assert _writes(integration) == {
        "customers.add_customer",
        "cases.add_debt",
        "cases.add_payment",
        "placements.add_placementfile",
        "statements.add_statementfile",
    }
    assert {
        "customers.view_customer",
        "cases.view_debt",
        "cases.view_payment",
        "placements.view_placementfile",
        "statements.view_statementfile",
    } <= integration
    # Not the collection work, the full national ID, the audit or any screen of people.
    assert not {f"cases.view_{m}" for m in WORK_MODELS} & integration
    never = {"customers.view_full_id", "backoffice.view_accessrecord", "cases.approve_payment"}
    assert not never & integration


def test_rerun_reports_what_changed(monkeypatch):
    from io import StringIO

    call_command("setup_roles", stdout=StringIO())
    changed = dict(roles.ROLE_PERMISSIONS)
    changed[roles.LEGAL] = roles.ROLE_PERMISSIONS[roles.LEGAL] | {"cases.view_payment"}
    monkeypatch.setattr(roles, "ROLE_PERMISSIONS", changed)
    out = StringIO()
    call_command("setup_roles", stdout=out)
    assert "Legal:" in out.getvalue() and "updated (+1 −0)" in out.getvalue()
    assert "Collector:" in out.getvalue() and "unchanged" in out.getvalue()
