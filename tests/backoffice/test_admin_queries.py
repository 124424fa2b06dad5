"""List screens run a fixed number of queries, however many rows they show."""

from datetime import date

import pytest
from django.urls import reverse

from cases.services import post_payment
from tests.factories import ContactPointFactory, CustomerFactory, ProductFactory, make_debt

pytestmark = pytest.mark.django_db

ROWS = 25
MAX_QUERIES = 12


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def book():
    product = ProductFactory()
    for n in range(ROWS):
        customer = CustomerFactory()
        ContactPointFactory(customer=customer, value=f"+86138{n:08d}")
        debt = make_debt(product=product, customer=customer)
        post_payment(debt=debt, amount="100.00", received_on=date(2026, 1, 5), reference=f"Q-{n}")


@pytest.mark.parametrize("model", ["customers/customer", "cases/debt", "cases/payment", "cases/ledgerentry"])
def test_changelist_queries_do_not_grow_with_rows(admin_client, book, django_assert_max_num_queries, model):
    app_label, model_name = model.split("/")
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    with django_assert_max_num_queries(MAX_QUERIES):
        response = admin_client.get(url)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) >= ROWS


def test_debt_page_queries_are_bounded(admin_client, book, django_assert_max_num_queries):
    from cases.models import Debt

    debt = Debt.objects.first()
    with django_assert_max_num_queries(25):
        response = admin_client.get(reverse("admin:cases_debt_change", args=[debt.pk]))
    assert response.status_code == 200
