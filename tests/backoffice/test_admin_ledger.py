"""The ledger is append-only in the admin too: no add, change or delete."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from cases.admin import LedgerEntryAdmin
from cases.models import LedgerEntry
from tests.factories import make_debt

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry():
    make_debt()
    return LedgerEntry.objects.first()


@pytest.fixture
def model_admin():
    from django.contrib import admin

    return admin.site._registry[LedgerEntry]


def test_no_one_may_add_change_or_delete_entries(admin_user, entry, model_admin):
    request = RequestFactory().get("/")
    request.user = admin_user
    assert isinstance(model_admin, LedgerEntryAdmin)
    assert model_admin.has_add_permission(request) is False
    assert model_admin.has_change_permission(request, entry) is False
    assert model_admin.has_delete_permission(request, entry) is False
    assert model_admin.has_view_permission(request, entry) is True


def test_post_to_delete_url_does_not_delete(client, admin_user, entry):
    client.force_login(admin_user)
    response = client.post(reverse("admin:cases_ledgerentry_delete", args=[entry.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


def test_post_to_change_url_changes_nothing(client, admin_user, entry):
    client.force_login(admin_user)
    url = reverse("admin:cases_ledgerentry_change", args=[entry.pk])
    client.post(url, {"amount": "1.00", "component": "fees"})
    entry.refresh_from_db()
    assert entry.component == "principal"
    assert entry.amount != 1


def test_add_url_is_refused(client, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("admin:cases_ledgerentry_add")).status_code == 403


def test_changelist_offers_no_delete_action(client, admin_user, entry):
    client.force_login(admin_user)
    response = client.get(reverse("admin:cases_ledgerentry_changelist"))
    assert "delete_selected" not in response.content.decode()
