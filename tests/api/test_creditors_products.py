"""``creditors/`` and ``products/``: configuration that administrators write."""

import pytest

from cases.models import Creditor, Product
from tests.api.conftest import client_for, grant
from tests.factories import CreditorFactory, PolicyFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_superuser_creates_a_creditor(api):
    response = api.post("/api/v1/creditors/", {"name": "Acme Finance", "short_code": "ACME"}, format="json")

    assert response.status_code == 201
    assert Creditor.objects.get(pk=response.json()["id"]).short_code == "ACME"


def test_creditor_with_a_duplicate_short_code_is_refused(api):
    CreditorFactory(short_code="ACME")

    response = api.post("/api/v1/creditors/", {"name": "Other", "short_code": "ACME"}, format="json")

    assert response.status_code == 400
    assert "short_code" in response.json()
    assert Creditor.objects.count() == 1


def test_user_outside_the_administrator_group_cannot_create_a_creditor(clerk_api):
    response = clerk_api.post("/api/v1/creditors/", {"name": "X", "short_code": "X"}, format="json")

    assert response.status_code == 403
    assert not Creditor.objects.exists()


def test_administrator_creates_a_product_for_a_creditor_and_policy(administrator_api):
    creditor, policy = CreditorFactory(), PolicyFactory()

    response = administrator_api.post(
        "/api/v1/products/",
        {"name": "Cash loan", "creditor": creditor.pk, "policy": policy.pk},
        format="json",
    )

    assert response.status_code == 201
    product = Product.objects.get(pk=response.json()["id"])
    assert (product.creditor, product.policy) == (creditor, policy)
    assert response.json() == {
        "id": product.pk,
        "name": "Cash loan",
        "creditor": creditor.pk,
        "policy": policy.pk,
        "created_at": response.json()["created_at"],
    }


def test_product_naming_an_unknown_policy_is_refused(api):
    creditor = CreditorFactory()

    response = api.post(
        "/api/v1/products/", {"name": "Cash loan", "creditor": creditor.pk, "policy": 99999}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["policy"] == ["Unknown collection policy."]
    assert not Product.objects.exists()


def test_product_naming_a_creditor_the_user_cannot_see_is_refused(db):
    administrator = grant(UserFactory(), "cases.view_collectionpolicy")
    administrator.groups.create(name="Administrator")
    creditor, policy = CreditorFactory(), PolicyFactory()

    response = client_for(administrator).post(
        "/api/v1/products/",
        {"name": "Cash loan", "creditor": creditor.pk, "policy": policy.pk},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["creditor"] == ["Unknown creditor."]
    assert not Product.objects.exists()


def test_second_product_with_the_same_name_for_a_creditor_is_refused(api):
    product = ProductFactory(name="Cash loan")

    response = api.post(
        "/api/v1/products/",
        {"name": "Cash loan", "creditor": product.creditor_id, "policy": product.policy_id},
        format="json",
    )

    assert response.status_code == 400
    assert Product.objects.count() == 1


def test_products_can_be_filtered_by_creditor(api):
    product = ProductFactory()
    ProductFactory()

    results = api.get(f"/api/v1/products/?creditor={product.creditor_id}").json()["results"]

    assert [p["id"] for p in results] == [product.pk]


def test_staff_without_view_permission_sees_no_creditors_or_products(outsider_api):
    product = ProductFactory()

    assert outsider_api.get("/api/v1/creditors/").json()["results"] == []
    assert outsider_api.get("/api/v1/products/").json()["results"] == []
    assert outsider_api.get(f"/api/v1/products/{product.pk}/").status_code == 404


def test_creditor_list_runs_a_constant_number_of_queries(api, django_assert_max_num_queries):
    CreditorFactory.create_batch(5)

    with django_assert_max_num_queries(2):
        response = api.get("/api/v1/creditors/")

    assert response.json()["count"] == 5


def test_product_list_runs_a_constant_number_of_queries(api, django_assert_max_num_queries):
    ProductFactory.create_batch(5)

    with django_assert_max_num_queries(2):
        response = api.get("/api/v1/products/")

    assert response.json()["count"] == 5
