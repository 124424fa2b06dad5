"""``customers/``: masked national IDs, time zones, search, access."""

import pytest

from customers.models import Customer
from tests.api.conftest import client_for, grant
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/"

NEW_CUSTOMER = {
    "kind": "person",
    "name": "王小明",
    "national_id": "110101199001011234",
    "date_of_birth": "1990-01-01",
    "preferred_language": "zh-hans",
    "jurisdiction": "CN",
    "region": "Beijing",
    "time_zone": "Asia/Shanghai",
}


def test_creating_a_customer_stores_every_field(clerk_api):
    response = clerk_api.post(URL, NEW_CUSTOMER, format="json")

    assert response.status_code == 201
    customer = Customer.objects.get(pk=response.json()["id"])
    assert customer.national_id == "110101199001011234"
    assert customer.time_zone == "Asia/Shanghai"
    assert customer.history.latest().history_user.username == "clerk"


def test_unknown_time_zone_is_refused_and_nothing_is_written(clerk_api):
    response = clerk_api.post(URL, {**NEW_CUSTOMER, "time_zone": "Mars/Olympus"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"time_zone": ["Unknown time zone."]}
    assert not Customer.objects.exists()


def test_empty_time_zone_is_stored_as_unknown(clerk_api):
    response = clerk_api.post(URL, {**NEW_CUSTOMER, "time_zone": ""}, format="json")

    assert response.status_code == 201
    assert response.json()["time_zone"] is None
    assert Customer.objects.get().time_zone is None


def test_unknown_kind_is_refused_and_nothing_is_written(clerk_api):
    response = clerk_api.post(URL, {**NEW_CUSTOMER, "kind": "robot"}, format="json")

    assert response.status_code == 400
    assert "kind" in response.json()
    assert not Customer.objects.exists()


def test_national_id_is_masked_for_a_user_without_full_id_permission(clerk_api):
    customer = CustomerFactory(national_id="110101199001011234")

    body = clerk_api.get(f"{URL}{customer.pk}/").json()

    assert body["national_id"] == "**************1234"


def test_national_id_is_masked_in_the_create_response(clerk_api):
    response = clerk_api.post(URL, NEW_CUSTOMER, format="json")

    assert response.json()["national_id"] == "**************1234"


def test_national_id_and_birth_date_are_masked_even_with_full_id_permission(clerk):
    # Reveals are deliberate: customers/{id}/reveal/ (tests/security/test_reveal.py).
    grant(clerk, "customers.view_full_id")
    customer = CustomerFactory(national_id="110101199001011234", date_of_birth="1990-01-01")

    body = client_for(clerk).get(f"{URL}{customer.pk}/").json()

    assert body["national_id"] == "**************1234"
    assert body["date_of_birth"] == "****-**-**"


def test_national_id_is_masked_in_lists_for_a_superuser(api):
    CustomerFactory(national_id="110101199001011234")

    assert api.get(URL).json()["results"][0]["national_id"] == "**************1234"


def test_an_unknown_date_of_birth_reads_as_null(clerk_api):
    customer = CustomerFactory(date_of_birth=None)

    assert clerk_api.get(f"{URL}{customer.pk}/").json()["date_of_birth"] is None


def test_sending_back_the_masked_birth_date_unchanged_keeps_the_stored_date(clerk_api):
    customer = CustomerFactory(date_of_birth="1990-01-01")
    body = clerk_api.get(f"{URL}{customer.pk}/").json()

    response = clerk_api.put(f"{URL}{customer.pk}/", {**body, "region": "Hebei"}, format="json")

    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.date_of_birth.isoformat() == "1990-01-01"
    assert customer.region == "Hebei"


def test_a_masked_birth_date_is_refused_on_create(clerk_api):
    response = clerk_api.post(URL, {**NEW_CUSTOMER, "date_of_birth": "****-**-**"}, format="json")

    assert response.status_code == 400
    assert "date_of_birth" in response.json()
    assert not Customer.objects.exists()


def test_a_new_birth_date_can_be_written(clerk_api):
    customer = CustomerFactory(date_of_birth="1990-01-01")

    response = clerk_api.patch(f"{URL}{customer.pk}/", {"date_of_birth": "1991-02-03"}, format="json")

    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.date_of_birth.isoformat() == "1991-02-03"


def test_sending_back_the_masked_id_unchanged_keeps_the_stored_id(clerk_api):
    customer = CustomerFactory(national_id="110101199001011234")
    body = clerk_api.get(f"{URL}{customer.pk}/").json()

    response = clerk_api.put(f"{URL}{customer.pk}/", {**body, "region": "Hebei"}, format="json")

    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.national_id == "110101199001011234"
    assert customer.region == "Hebei"


def test_a_different_masked_id_is_refused(clerk_api):
    customer = CustomerFactory(national_id="110101199001011234")

    response = clerk_api.patch(f"{URL}{customer.pk}/", {"national_id": "****5678"}, format="json")

    assert response.status_code == 400
    assert "national_id" in response.json()
    customer.refresh_from_db()
    assert customer.national_id == "110101199001011234"


def test_changing_the_time_zone_to_an_unknown_one_is_refused(clerk_api):
    customer = CustomerFactory(time_zone="Asia/Shanghai")

    response = clerk_api.patch(f"{URL}{customer.pk}/", {"time_zone": "Nowhere/Else"}, format="json")

    assert response.status_code == 400
    customer.refresh_from_db()
    assert customer.time_zone == "Asia/Shanghai"


def test_search_matches_part_of_the_name(clerk_api):
    wanted = CustomerFactory(name="李雷")
    CustomerFactory(name="韩梅梅")

    results = clerk_api.get(URL, {"search": "李"}).json()["results"]

    assert [c["id"] for c in results] == [wanted.pk]


def test_search_matches_the_whole_national_id(clerk_api):
    wanted = CustomerFactory(national_id="110101199001019999")
    CustomerFactory(national_id="110101199001018888")

    assert [c["id"] for c in clerk_api.get(URL, {"search": "110101199001019999"}).json()["results"]] == [
        wanted.pk
    ]
    assert clerk_api.get(URL, {"search": "9999"}).json()["results"] == []
    assert clerk_api.get(URL, {"search": "10101199001019999"}).json()["results"] == []


def test_customers_can_be_filtered_by_kind(clerk_api):
    company = CustomerFactory(kind="company")
    CustomerFactory(kind="person")

    results = clerk_api.get(URL, {"kind": "company"}).json()["results"]

    assert [c["id"] for c in results] == [company.pk]


def test_customers_cannot_be_deleted(clerk_api):
    customer = CustomerFactory()

    assert clerk_api.delete(f"{URL}{customer.pk}/").status_code == 405
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_staff_without_view_permission_sees_no_customers(outsider_api):
    customer = CustomerFactory()

    assert outsider_api.get(URL).json() == {"count": 0, "next": None, "previous": None, "results": []}
    assert outsider_api.get(f"{URL}{customer.pk}/").status_code == 404


def test_staff_without_add_permission_cannot_create_a_customer(outsider_api):
    response = outsider_api.post(URL, NEW_CUSTOMER, format="json")

    assert response.status_code == 403
    assert not Customer.objects.exists()


def test_staff_with_view_but_not_change_permission_cannot_change_a_customer(db):
    viewer = grant(UserFactory(), "customers.view_customer")
    customer = CustomerFactory(region="Beijing")

    response = client_for(viewer).patch(f"{URL}{customer.pk}/", {"region": "Hebei"}, format="json")

    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.region == "Beijing"


def test_customer_list_runs_a_constant_number_of_queries(clerk_api, django_assert_max_num_queries):
    CustomerFactory.create_batch(6)

    # Counting, the page, and the user's permissions (looked up once).
    with django_assert_max_num_queries(5):
        response = clerk_api.get(URL)

    assert response.json()["count"] == 6
