"""``customers/{id}/contact-points/`` and ``customers/{id}/third-parties/``."""

import pytest

from customers.models import ContactPoint, ThirdPartyContact
from tests.factories import ContactPointFactory, CustomerFactory, ThirdPartyContactFactory

pytestmark = pytest.mark.django_db


def points_url(customer) -> str:
    return f"/api/v1/customers/{customer.pk}/contact-points/"


def parties_url(customer) -> str:
    return f"/api/v1/customers/{customer.pk}/third-parties/"


def test_adding_a_phone_stores_it_in_e164(clerk_api):
    customer = CustomerFactory(jurisdiction="CN")

    response = clerk_api.post(
        points_url(customer),
        {"kind": "phone", "value": "138 0013 8000", "label": "mobile", "primary": True},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["value"] == "+8613800138000"
    assert body["customer"] == customer.pk
    assert body["consent"] is True and body["do_not_contact"] is False
    assert ContactPoint.objects.get(pk=body["id"]).value == "+8613800138000"


def test_a_us_customers_phone_is_read_in_the_us_numbering_plan(clerk_api):
    customer = CustomerFactory(jurisdiction="US", time_zone=None)

    response = clerk_api.post(points_url(customer), {"kind": "phone", "value": "650-253-0000"}, format="json")

    assert response.status_code == 201
    assert response.json()["value"] == "+16502530000"


def test_an_invalid_phone_is_refused_and_nothing_is_written(clerk_api):
    customer = CustomerFactory()

    response = clerk_api.post(points_url(customer), {"kind": "phone", "value": "12345"}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["value"]
    assert not ContactPoint.objects.exists()


def test_an_invalid_email_is_refused_and_nothing_is_written(clerk_api):
    customer = CustomerFactory()

    response = clerk_api.post(points_url(customer), {"kind": "email", "value": "not-an-email"}, format="json")

    assert response.status_code == 400
    assert "value" in response.json()
    assert not ContactPoint.objects.exists()


def test_the_same_phone_twice_for_one_customer_is_refused(clerk_api):
    customer = CustomerFactory()
    ContactPointFactory(customer=customer, value="+8613800138000")

    response = clerk_api.post(points_url(customer), {"kind": "phone", "value": "13800138000"}, format="json")

    assert response.status_code == 400
    assert "value" in response.json()
    assert ContactPoint.objects.count() == 1


def test_list_shows_only_the_customers_own_contact_points(clerk_api):
    customer = CustomerFactory()
    own = ContactPointFactory(customer=customer)
    ContactPointFactory()

    results = clerk_api.get(points_url(customer)).json()["results"]

    assert [p["id"] for p in results] == [own.pk]


def test_a_contact_point_is_not_found_under_another_customer(clerk_api):
    point = ContactPointFactory()
    other = CustomerFactory()

    assert clerk_api.get(f"{points_url(other)}{point.pk}/").status_code == 404


def test_marking_a_contact_point_do_not_contact(clerk_api):
    point = ContactPointFactory()

    response = clerk_api.patch(
        f"{points_url(point.customer)}{point.pk}/", {"do_not_contact": True, "consent": False}, format="json"
    )

    assert response.status_code == 200
    point.refresh_from_db()
    assert point.do_not_contact is True and point.consent is False


def test_changing_a_phone_to_an_invalid_number_is_refused(clerk_api):
    point = ContactPointFactory(value="+8613800138000")

    response = clerk_api.patch(f"{points_url(point.customer)}{point.pk}/", {"value": "12"}, format="json")

    assert response.status_code == 400
    point.refresh_from_db()
    assert point.value == "+8613800138000"


def test_contact_points_cannot_be_deleted(clerk_api):
    point = ContactPointFactory()

    assert clerk_api.delete(f"{points_url(point.customer)}{point.pk}/").status_code == 405
    assert ContactPoint.objects.filter(pk=point.pk).exists()


def test_contact_points_of_an_invisible_customer_are_not_found(outsider_api):
    point = ContactPointFactory()

    assert outsider_api.get(points_url(point.customer)).status_code == 404
    assert outsider_api.get(f"{points_url(point.customer)}{point.pk}/").status_code == 404


def test_adding_a_contact_point_to_an_invisible_customer_is_not_found(outsider_api):
    customer = CustomerFactory()

    response = outsider_api.post(
        points_url(customer), {"kind": "phone", "value": "13800138000"}, format="json"
    )

    assert response.status_code == 404
    assert not ContactPoint.objects.exists()


def test_adding_a_contact_point_to_an_unknown_customer_is_not_found(clerk_api):
    response = clerk_api.post(
        "/api/v1/customers/999999/contact-points/", {"kind": "phone", "value": "13800138000"}, format="json"
    )

    assert response.status_code == 404
    assert not ContactPoint.objects.exists()


def test_contact_point_list_runs_a_constant_number_of_queries(api, django_assert_max_num_queries):
    customer = CustomerFactory()
    ContactPointFactory.create_batch(5, customer=customer)

    # The customer, counting, the page.
    with django_assert_max_num_queries(3):
        response = api.get(points_url(customer))

    assert response.json()["count"] == 5


def test_adding_a_third_party_stores_the_phone_in_e164(clerk_api):
    customer = CustomerFactory()

    response = clerk_api.post(
        parties_url(customer),
        {"relationship": "employer", "name": "某某科技有限公司", "phone": "13900139000"},
        format="json",
    )

    assert response.status_code == 201
    party = ThirdPartyContact.objects.get(pk=response.json()["id"])
    assert (party.customer, party.relationship, party.phone) == (customer, "employer", "+8613900139000")


def test_a_third_party_with_an_invalid_phone_is_refused(clerk_api):
    customer = CustomerFactory()

    response = clerk_api.post(
        parties_url(customer), {"relationship": "relative", "name": "张三", "phone": "999"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["phone"]
    assert not ThirdPartyContact.objects.exists()


def test_a_third_party_with_an_unknown_relationship_is_refused(clerk_api):
    customer = CustomerFactory()

    response = clerk_api.post(
        parties_url(customer), {"relationship": "neighbour", "name": "张三"}, format="json"
    )

    assert response.status_code == 400
    assert "relationship" in response.json()
    assert not ThirdPartyContact.objects.exists()


def test_changing_a_third_partys_relationship(clerk_api):
    party = ThirdPartyContactFactory()

    response = clerk_api.patch(
        f"{parties_url(party.customer)}{party.pk}/", {"relationship": "spouse"}, format="json"
    )

    assert response.status_code == 200
    party.refresh_from_db()
    assert party.relationship == "spouse"


def test_third_parties_list_shows_only_the_customers_own(clerk_api):
    party = ThirdPartyContactFactory()
    ThirdPartyContactFactory()

    body = clerk_api.get(parties_url(party.customer)).json()

    assert [p["id"] for p in body["results"]] == [party.pk]
    assert set(body["results"][0]) == {
        "id",
        "customer",
        "relationship",
        "name",
        "phone",
        "do_not_contact",
        "created_at",
    }


def test_third_parties_of_an_invisible_customer_are_not_found(outsider_api):
    party = ThirdPartyContactFactory()

    assert outsider_api.get(parties_url(party.customer)).status_code == 404


def test_third_party_list_runs_a_constant_number_of_queries(api, django_assert_max_num_queries):
    customer = CustomerFactory()
    ThirdPartyContactFactory.create_batch(5, customer=customer)

    with django_assert_max_num_queries(3):
        response = api.get(parties_url(customer))

    assert response.json()["count"] == 5
