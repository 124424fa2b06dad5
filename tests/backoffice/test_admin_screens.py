"""Every registered screen opens for a superuser: changelist and change view."""

from datetime import date

import pytest
from django.urls import reverse

from cases.models import CollectionCase, CollectionPolicy, Creditor, Debt, LedgerEntry, Payment, Product, Team
from cases.services import post_payment, run_close_of_business
from customers.models import ContactPoint, Customer, ThirdPartyContact
from tests.factories import ContactPointFactory, TeamFactory, ThirdPartyContactFactory, make_debt

pytestmark = pytest.mark.django_db

MODELS = [
    Customer,
    ContactPoint,
    ThirdPartyContact,
    Creditor,
    CollectionPolicy,
    Product,
    Team,
    CollectionCase,
    Debt,
    LedgerEntry,
    Payment,
]


@pytest.fixture
def debt():
    debt = make_debt(opened_on=date(2026, 1, 1))
    run_close_of_business(business_date=date(2026, 3, 15))
    debt.refresh_from_db()
    return debt


@pytest.fixture
def payment(debt):
    return post_payment(debt=debt, amount="500.00", received_on=date(2026, 3, 16), reference="ADM-1").payment


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def rows(debt, payment):
    ContactPointFactory(customer=debt.customer, value="+8613800000001")
    ThirdPartyContactFactory(customer=debt.customer, phone="+8613900000001")
    TeamFactory()


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_opens_for_superuser(admin_client, rows, model):
    assert admin_client.get(_url(model, "changelist")).status_code == 200


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_change_view_opens_for_superuser(admin_client, rows, model):
    obj = model.objects.order_by("pk").first()
    assert admin_client.get(_url(model, "change", obj.pk)).status_code == 200


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_history_view_opens_for_superuser(admin_client, rows, model):
    obj = model.objects.order_by("pk").first()
    assert admin_client.get(_url(model, "history", obj.pk)).status_code == 200


def test_site_header_is_ledgerline(admin_client):
    assert b"Ledgerline" in admin_client.get(reverse("admin:index")).content


def test_debt_cannot_be_added_in_admin(admin_client):
    assert admin_client.get(_url(Debt, "add")).status_code == 403


def test_debt_page_links_to_its_filtered_ledger(admin_client, debt):
    page = admin_client.get(_url(Debt, "change", debt.pk)).content.decode()
    assert f"?debt={debt.pk}" in page
    response = admin_client.get(_url(LedgerEntry, "changelist") + f"?debt={debt.pk}")
    assert response.status_code == 200
    assert set(response.context["cl"].result_list) == set(LedgerEntry.objects.filter(debt=debt))


def test_history_shows_reason_and_user(admin_client, payment):
    page = admin_client.get(_url(Payment, "history", payment.pk)).content.decode()
    assert "payment received" in page


def test_new_policy_form_starts_from_preset(admin_client):
    response = admin_client.get(_url(CollectionPolicy, "add") + "?jurisdiction=US")
    initial = response.context["adminform"].form.initial
    assert initial["currency"] == "USD"
    assert initial["waterfall"] == ["legal_cost", "fees", "penalty", "interest", "principal"]
