"""Reveals are deliberate and recorded (issue #15, "Lists reveal without a record").

A Supervisor (holder of ``customers.view_full_id``) used to see every full ID
in the admin list with no access record. Lists and details now show the mask
to every role; one value is revealed on purpose, with a reason, on the
customer's admin page or through ``POST customers/{id}/reveal/``, and each
reveal writes one access record naming the field, the reason and where it
came from, never the value.
"""

from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from rest_framework.test import APIClient

from backoffice.models import AccessRecord
from customers.models import Customer

pytest_plugins = ["tests.personas"]
pytestmark = pytest.mark.django_db

REVEAL = AccessRecord.Action.REVEAL_PERSONAL_DATA
FULL_ID = "230921196701011234"
MASKED = "**************1234"


@pytest.fixture
def target(world):
    customer = world.row(Customer, "A")
    Customer.objects.filter(pk=customer.pk).update(national_id=FULL_ID, date_of_birth=date(1967, 1, 1))
    customer.refresh_from_db()
    return customer


def _api(user, address="203.0.113.7") -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.force_authenticate(user)
    return client


def _reveal(client, customer_id, **body):
    return client.post(f"/api/v1/customers/{customer_id}/reveal/", body, format="json")


def test_the_supervisors_admin_list_shows_the_mask_and_writes_no_record(client, target, personas):
    client.force_login(personas["supervisor"])

    page = client.get(reverse("admin:customers_customer_changelist")).content.decode()

    assert MASKED in page
    assert FULL_ID not in page
    assert not AccessRecord.objects.exists()


def test_the_supervisors_api_list_and_detail_show_the_mask_and_write_no_record(target, personas):
    api = _api(personas["supervisor"])

    listed = {row["id"]: row for row in api.get("/api/v1/customers/", {"page_size": 100}).json()["results"]}
    detail = api.get(f"/api/v1/customers/{target.pk}/").json()

    assert listed[target.pk]["national_id"] == MASKED
    assert (detail["national_id"], detail["date_of_birth"]) == (MASKED, "****-**-**")
    assert not AccessRecord.objects.exists()


def test_the_supervisors_admin_detail_shows_the_mask_and_writes_no_record(client, target, personas):
    client.force_login(personas["supervisor"])

    page = client.get(reverse("admin:customers_customer_change", args=[target.pk])).content.decode()

    assert FULL_ID not in page
    assert "1967-01-01" not in page
    assert MASKED in page
    assert not AccessRecord.objects.exists()


def test_an_api_reveal_returns_the_value_and_writes_one_record(target, personas):
    response = _reveal(
        _api(personas["supervisor"]), target.pk, field="national_id", reason="debtor on the line"
    )

    assert response.status_code == 200
    assert response.json() == {"field": "national_id", "value": FULL_ID}
    assert "no-store" in response["Cache-Control"]
    record = AccessRecord.objects.get()
    assert (record.user_id, record.action, record.object_id) == (
        personas["supervisor"].pk,
        REVEAL,
        str(target.pk),
    )
    assert "national_id" in record.detail
    assert "debtor on the line" in record.detail
    assert "api" in record.detail and "203.0.113.7" in record.detail
    assert FULL_ID not in record.detail and FULL_ID not in record.object_label


def test_an_api_reveal_of_the_date_of_birth_returns_that_date(target, personas):
    response = _reveal(
        _api(personas["compliance"]), target.pk, field="date_of_birth", reason="identity check"
    )

    assert response.status_code == 200
    assert response.json() == {"field": "date_of_birth", "value": "1967-01-01"}
    assert "date_of_birth" in AccessRecord.objects.get(action=REVEAL).detail


def test_an_admin_reveal_shows_the_value_once_and_writes_one_record(client, target, personas):
    client.force_login(personas["supervisor"])
    url = reverse("admin:customers_customer_reveal", args=[target.pk])

    response = client.post(
        url, {"field": "national_id", "reason": "court filing"}, REMOTE_ADDR="198.51.100.4"
    )

    assert response.status_code == 200
    assert FULL_ID in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    record = AccessRecord.objects.get()
    assert (record.action, record.object_id) == (REVEAL, str(target.pk))
    assert "national_id" in record.detail and "court filing" in record.detail
    assert "admin" in record.detail and "198.51.100.4" in record.detail
    assert FULL_ID not in record.detail
    # Going back to the page shows the mask again.
    page = client.get(reverse("admin:customers_customer_change", args=[target.pk])).content.decode()
    assert FULL_ID not in page


def test_an_admin_reveal_is_a_post_only(client, target, personas):
    client.force_login(personas["supervisor"])

    response = client.get(reverse("admin:customers_customer_reveal", args=[target.pk]))

    assert response.status_code == 405
    assert not AccessRecord.objects.exists()


def test_a_collector_may_not_reveal_and_nothing_is_written(client, target, personas):
    response = _reveal(_api(personas["collector"]), target.pk, field="national_id", reason="curious")
    client.force_login(personas["collector"])
    admin_response = client.post(
        reverse("admin:customers_customer_reveal", args=[target.pk]), {"field": "national_id", "reason": "x"}
    )

    assert response.status_code == 403
    assert FULL_ID not in response.content.decode()
    assert admin_response.status_code == 403
    assert not AccessRecord.objects.exists()


def test_a_customer_the_holder_may_not_see_answers_404(client, world, target, personas):
    # collector2 sees only case B; with the permission it still cannot reach case A's customer.
    holder = personas["collector2"]
    holder.user_permissions.add(Permission.objects.get(codename="view_full_id"))
    holder = world.fresh(holder)

    response = _reveal(_api(holder), target.pk, field="national_id", reason="not mine")
    client.force_login(holder)
    admin_response = client.post(
        reverse("admin:customers_customer_reveal", args=[target.pk]), {"field": "national_id", "reason": "x"}
    )

    assert response.status_code == 404
    assert admin_response.status_code == 404
    assert not AccessRecord.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"field": "password", "reason": "why not"},
        {"field": "name", "reason": "why not"},
        {"field": "national_id"},
        {"field": "national_id", "reason": "   "},
        {"field": "national_id", "reason": "x" * 201},
        {"field": ["national_id"], "reason": "list"},
    ],
    ids=["unknown-field", "unmasked-field", "no-reason", "blank-reason", "long-reason", "list-field"],
)
def test_bad_input_answers_400_and_writes_nothing(target, personas, body):
    response = _reveal(_api(personas["supervisor"]), target.pk, **body)

    assert response.status_code == 400
    assert FULL_ID not in response.content.decode()
    assert not AccessRecord.objects.exists()


def test_an_unknown_field_in_the_admin_answers_400_and_writes_nothing(client, target, personas):
    client.force_login(personas["supervisor"])

    response = client.post(
        reverse("admin:customers_customer_reveal", args=[target.pk]), {"field": "password", "reason": "x"}
    )

    assert response.status_code == 400
    assert FULL_ID not in response.content.decode()
    assert not AccessRecord.objects.exists()
