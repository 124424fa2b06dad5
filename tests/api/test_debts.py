"""``debts/``: placing accounts, reading them, filters, and the ledger."""

from datetime import date
from decimal import Decimal

import pytest

from cases.models import CollectionCase, Debt, Instalment, LedgerEntry
from cases.services import post_payment, run_close_of_business
from tests.api.conftest import client_for, grant
from tests.factories import CustomerFactory, ProductFactory, UserFactory, make_debt

pytestmark = pytest.mark.django_db

URL = "/api/v1/debts/"


@pytest.fixture
def product(db):
    return ProductFactory()


@pytest.fixture
def customer(db):
    return CustomerFactory()


def placement(product, customer, /, **overrides) -> dict:
    body = {
        "creditor": product.creditor_id,
        "product": product.pk,
        "customer": customer.pk,
        "account_number": "LN-0001",
        "currency": "CNY",
        "opened_on": "2026-01-01",
        "instalments": [
            {"due_on": "2026-01-31", "principal": "1000.00", "interest": "50.00"},
            {"due_on": "2026-03-02", "principal": "1000.00", "interest": "50.00"},
            {"due_on": "2026-04-01", "principal": "1000.00"},
        ],
    }
    body.update(overrides)
    return body


def nothing_written() -> bool:
    return not (
        Debt.objects.exists()
        or Instalment.objects.exists()
        or LedgerEntry.objects.exists()
        or CollectionCase.objects.exists()
    )


def test_placing_an_account_answers_201_with_the_detail(clerk_api, product, customer):
    response = clerk_api.post(URL, placement(product, customer), format="json")

    assert response.status_code == 201
    body = response.json()
    debt = Debt.objects.get(pk=body["id"])
    assert body["account_number"] == "LN-0001"
    assert body["creditor"] == product.creditor_id
    assert body["customer"] == customer.pk
    assert debt.case_id is not None
    assert body["case"] == debt.case_id
    assert body["status"] == "open"
    assert body["bucket"] == "current"
    assert body["days_past_due"] == 0
    assert body["original_principal"] == "3000.00"
    assert body["balances"] == {
        "principal": "3000.00",
        "interest": "0.00",
        "penalty": "0.00",
        "fees": "0.00",
        "legal_cost": "0.00",
        "credit": "0.00",
        "total": "3000.00",
    }
    assert [i["due_on"] for i in body["instalments"]] == ["2026-01-31", "2026-03-02", "2026-04-01"]
    assert body["instalments"][2]["interest"] == "0.00"
    assert body["limitation_on"] == "2029-04-01"


def test_placing_an_account_posts_its_principal_and_records_the_actor(clerk_api, clerk, product, customer):
    response = clerk_api.post(URL, placement(product, customer), format="json")

    entries = LedgerEntry.objects.filter(debt_id=response.json()["id"])
    assert sum(e.amount for e in entries) == Decimal("3000.00")
    assert {e.source for e in entries} == {"api"}
    assert {e.created_by for e in entries} == {clerk}
    assert Debt.objects.get().history.latest().history_user == clerk


def test_a_second_account_of_the_customer_joins_the_same_case(clerk_api, product, customer):
    first = clerk_api.post(URL, placement(product, customer), format="json").json()

    second = clerk_api.post(URL, placement(product, customer, account_number="LN-0002"), format="json").json()

    assert second["case"] == first["case"]
    assert CollectionCase.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"currency": "USD"}, "currency"),
        ({"customer": 999999}, "customer"),
        ({"product": 999999}, "product"),
        ({"creditor": "not-an-id"}, "creditor"),
        ({"account_number": ""}, "account_number"),
        ({"opened_on": "01/01/2026"}, "opened_on"),
        ({"instalments": []}, "instalments"),
        ({"instalments": [{"due_on": "2025-12-01", "principal": "100.00"}]}, "instalments"),
        ({"instalments": [{"due_on": "2026-02-01", "principal": "-100.00"}]}, "instalments"),
        ({"instalments": [{"due_on": "2026-02-01", "principal": "100.005"}]}, "instalments"),
        ({"instalments": [{"due_on": "2026-02-01", "principal": "0.00"}]}, "instalments"),
        (
            {
                "instalments": [
                    {"due_on": "2026-03-01", "principal": "100.00"},
                    {"due_on": "2026-02-01", "principal": "100.00"},
                ]
            },
            "instalments",
        ),
    ],
)
def test_bad_placement_is_refused_per_field_and_writes_nothing(
    clerk_api, product, customer, overrides, field
):
    response = clerk_api.post(URL, placement(product, customer, **overrides), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert nothing_written()


def test_unknown_customer_is_reported_as_unknown(clerk_api, product):
    response = clerk_api.post(URL, placement(product, CustomerFactory.build(pk=999999)), format="json")

    assert response.json()["customer"] == ["Unknown customer."]


def test_product_of_another_creditor_is_refused(clerk_api, customer):
    product, other = ProductFactory(), ProductFactory()

    response = clerk_api.post(URL, placement(product, customer, creditor=other.creditor_id), format="json")

    assert response.status_code == 400
    assert response.json() == {"product": ["This product belongs to another creditor."]}
    assert nothing_written()


def test_duplicate_account_number_for_a_creditor_is_refused(clerk_api, product, customer):
    clerk_api.post(URL, placement(product, customer), format="json")
    counts = (Debt.objects.count(), LedgerEntry.objects.count(), Instalment.objects.count())

    response = clerk_api.post(URL, placement(product, CustomerFactory()), format="json")

    assert response.status_code == 400
    assert "account_number" in response.json()
    assert (Debt.objects.count(), LedgerEntry.objects.count(), Instalment.objects.count()) == counts
    assert CollectionCase.objects.count() == 1


def test_placing_for_a_customer_the_user_cannot_see_is_refused(product, customer):
    placer = grant(UserFactory(), "cases.add_debt", "cases.view_creditor", "cases.view_product")

    response = client_for(placer).post(URL, placement(product, customer), format="json")

    assert response.status_code == 400
    assert response.json() == {"customer": ["Unknown customer."]}
    assert nothing_written()


def test_staff_without_add_permission_cannot_place_an_account(outsider_api, product, customer):
    response = outsider_api.post(URL, placement(product, customer), format="json")

    assert response.status_code == 403
    assert nothing_written()


def test_detail_shows_ageing_after_close_of_business(clerk_api):
    debt = make_debt()
    run_close_of_business(business_date=date(2026, 2, 10))

    body = clerk_api.get(f"{URL}{debt.pk}/").json()

    assert body["days_past_due"] == 10
    assert body["bucket"] == "M1"
    assert body["date_of_first_delinquency"] == "2026-02-01"
    assert body["closed_through"] == "2026-02-10"
    assert body["balances"]["interest"] == "50.00"
    assert Decimal(body["balances"]["penalty"]) > 0
    total = sum(Decimal(v) for k, v in body["balances"].items() if k != "total")
    assert Decimal(body["balances"]["total"]) == total


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_debts_cannot_be_changed_or_deleted_directly(api, method):
    debt = make_debt()

    response = getattr(api, method)(f"{URL}{debt.pk}/", {"account_number": "X"}, format="json")

    assert response.status_code == 405
    debt.refresh_from_db()
    assert debt.account_number != "X"


def test_debts_can_be_filtered_by_status(api):
    open_debt = make_debt()
    paid = make_debt()
    post_payment(debt=paid, amount="3000.00", received_on=date(2026, 1, 10), reference="PAID-1")

    assert [d["id"] for d in api.get(URL, {"status": "open"}).json()["results"]] == [open_debt.pk]
    assert [d["id"] for d in api.get(URL, {"status": "paid"}).json()["results"]] == [paid.pk]


def test_debts_can_be_filtered_by_bucket(api):
    late = make_debt(opened_on=date(2026, 1, 1))
    make_debt(opened_on=date(2026, 2, 1))
    run_close_of_business(business_date=date(2026, 2, 15))

    assert [d["id"] for d in api.get(URL, {"bucket": "M1"}).json()["results"]] == [late.pk]


def test_debts_can_be_filtered_by_customer_and_creditor(api):
    wanted = make_debt()
    make_debt()

    by_customer = api.get(URL, {"customer": wanted.customer_id}).json()["results"]
    by_creditor = api.get(URL, {"creditor": wanted.creditor_id}).json()["results"]

    assert [d["id"] for d in by_customer] == [wanted.pk]
    assert [d["id"] for d in by_creditor] == [wanted.pk]


def test_an_unknown_status_filter_is_refused(api):
    response = api.get(URL, {"status": "lost"})

    assert response.status_code == 400
    assert "status" in response.json()


def test_staff_without_view_permission_sees_no_debts(outsider_api):
    debt = make_debt()

    assert outsider_api.get(URL).json()["results"] == []
    assert outsider_api.get(f"{URL}{debt.pk}/").status_code == 404
    assert outsider_api.get(f"{URL}{debt.pk}/ledger/").status_code == 404


def test_debt_list_runs_a_constant_number_of_queries(api, django_assert_max_num_queries):
    for _ in range(5):
        make_debt()

    # Counting, the page, the instalments of the page.
    with django_assert_max_num_queries(3):
        response = api.get(URL)

    assert response.json()["count"] == 5
    assert all(len(d["instalments"]) == 3 for d in response.json()["results"])


def test_ledger_lists_entries_oldest_first_with_signed_amounts(clerk_api):
    debt = make_debt()
    run_close_of_business(business_date=date(2026, 1, 31))
    post_payment(debt=debt, amount="200.00", received_on=date(2026, 2, 1), reference="LEDGER-1")

    body = clerk_api.get(f"{URL}{debt.pk}/ledger/").json()

    entries = body["results"]
    assert body["count"] == len(entries) == 3 + 1 + 2
    assert [e["effective_on"] for e in entries] == sorted(e["effective_on"] for e in entries)
    assert [(e["component"], e["amount"], e["kind"]) for e in entries[:4]] == [
        ("principal", "1000.00", "charge"),
        ("principal", "1000.00", "charge"),
        ("principal", "1000.00", "charge"),
        ("interest", "50.00", "charge"),
    ]
    payments = [e for e in entries if e["kind"] == "payment"]
    assert sum(Decimal(e["amount"]) for e in payments) == Decimal("-200.00")
    assert {e["source"] for e in payments} == {"payment:LEDGER-1"}
    assert set(entries[0]) >= {"id", "effective_on", "component", "amount", "kind", "source", "created_at"}


def test_ledger_is_paginated(api):
    debt = make_debt()
    run_close_of_business(business_date=date(2026, 4, 30))

    body = api.get(f"{URL}{debt.pk}/ledger/").json()

    assert body["count"] > 50
    assert len(body["results"]) == 50
    assert body["next"]


def test_ledger_of_an_unknown_debt_is_not_found(api):
    assert api.get(f"{URL}999999/ledger/").status_code == 404


def test_ledger_runs_a_constant_number_of_queries(api, django_assert_max_num_queries):
    debt = make_debt()
    run_close_of_business(business_date=date(2026, 2, 20))

    # The debt, counting, the page.
    with django_assert_max_num_queries(3):
        response = api.get(f"{URL}{debt.pk}/ledger/")

    assert response.json()["count"] > 10
