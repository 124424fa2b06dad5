"""National IDs and dates of birth are masked for every role (DESIGN.md,
issue #15); a holder of ``view_full_id`` reveals one value on purpose
(tests/security/test_reveal.py) and may type a correction it never sees."""

from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from backoffice.models import AccessRecord
from customers.models import Customer
from tests.factories import CustomerFactory, UserFactory, sees_all_rows

pytestmark = pytest.mark.django_db

FULL_ID = "110101199001011234"
MASKED = "**************1234"


def _user(*codenames):
    user = sees_all_rows(UserFactory())
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="customers", codename__in=codenames)
    )
    return user


@pytest.fixture
def customer():
    return CustomerFactory(national_id=FULL_ID, date_of_birth=date(1990, 1, 1))


@pytest.fixture
def viewer(client):
    client.force_login(_user("view_customer", "change_customer"))
    return client


@pytest.fixture
def revealer(client):
    client.force_login(_user("view_customer", "change_customer", "view_full_id"))
    return client


def test_changelist_masks_id_without_permission(viewer, customer):
    page = viewer.get(reverse("admin:customers_customer_changelist")).content.decode()
    assert MASKED in page
    assert FULL_ID not in page


def test_changelist_masks_id_even_with_permission_and_records_nothing(revealer, customer):
    page = revealer.get(reverse("admin:customers_customer_changelist")).content.decode()
    assert MASKED in page
    assert FULL_ID not in page
    assert not AccessRecord.objects.exists()


def test_changelist_cannot_be_sorted_by_the_hidden_id(revealer, customer):
    # Sorting by the full ID would place an unknown ID between known ones.
    page = revealer.get(reverse("admin:customers_customer_changelist")).content.decode()
    assert 'class="column-masked_national_id"' in page
    assert "sortable column-masked_national_id" not in page


def test_change_form_masks_id_without_permission(viewer, customer):
    response = viewer.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    page = response.content.decode()
    assert MASKED in page
    assert FULL_ID not in page
    assert "national_id" not in response.context["adminform"].form.fields


def test_change_form_masks_id_and_birth_date_with_permission(revealer, customer):
    response = revealer.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    page = response.content.decode()
    assert FULL_ID not in page
    assert MASKED in page
    assert customer.date_of_birth.isoformat() not in page
    # The ID can still be corrected, through an input that shows no value.
    assert "national_id" in response.context["adminform"].form.fields
    assert reverse("admin:customers_customer_reveal", args=[customer.pk]) in page
    assert not AccessRecord.objects.exists()


def _form_data(**changes):
    return {
        "kind": "person",
        "name": "改名",
        "preferred_language": "zh-hans",
        "jurisdiction": "CN",
        "national_id": "",
        "date_of_birth": "",
        "contact_points-TOTAL_FORMS": "0",
        "contact_points-INITIAL_FORMS": "0",
        "third_parties-TOTAL_FORMS": "0",
        "third_parties-INITIAL_FORMS": "0",
        **changes,
    }


def test_saving_with_permission_and_empty_inputs_keeps_id_and_birth_date(revealer, customer):
    born = customer.date_of_birth
    url = reverse("admin:customers_customer_change", args=[customer.pk])

    assert revealer.post(url, _form_data()).status_code == 302

    customer.refresh_from_db()
    assert (customer.name, customer.national_id, customer.date_of_birth) == ("改名", FULL_ID, born)


def test_a_holder_of_the_permission_can_type_a_corrected_id(revealer, customer):
    url = reverse("admin:customers_customer_change", args=[customer.pk])

    assert revealer.post(url, _form_data(national_id="110101199001015678")).status_code == 302

    customer.refresh_from_db()
    assert customer.national_id == "110101199001015678"


def test_saving_without_permission_keeps_the_stored_id(viewer, customer):
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    data = {
        "kind": "person",
        "name": "改名",
        "preferred_language": "zh-hans",
        "jurisdiction": "CN",
        "national_id": "999",
        "contact_points-TOTAL_FORMS": "0",
        "contact_points-INITIAL_FORMS": "0",
        "third_parties-TOTAL_FORMS": "0",
        "third_parties-INITIAL_FORMS": "0",
    }
    response = viewer.post(url, data)
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.name == "改名"
    assert customer.national_id == FULL_ID


def test_search_matches_the_full_id_without_permission(viewer, customer):
    CustomerFactory(national_id="110101199001019999")
    response = viewer.get(reverse("admin:customers_customer_changelist"), {"q": FULL_ID})
    assert list(response.context["cl"].result_list) == [customer]
    # The typed query is echoed back; the row itself shows the masked ID.
    assert f'<td class="field-masked_national_id">{MASKED}</td>' in response.content.decode()


def test_history_masks_id_changes_without_permission(viewer, customer):
    customer.national_id = "110101199001015678"
    customer.save()
    page = viewer.get(reverse("admin:customers_customer_history", args=[customer.pk])).content.decode()
    assert "110101199001015678" not in page
    assert FULL_ID not in page
    assert "**************5678" in page


def test_old_version_form_masks_id_without_permission(viewer, customer):
    version = Customer.history.filter(id=customer.pk).first()
    url = reverse("admin:customers_customer_simple_history", args=[customer.pk, version.history_id])
    page = viewer.get(url).content.decode()
    assert FULL_ID not in page
    assert MASKED in page


def test_history_and_old_versions_mask_id_and_birth_date_even_with_permission(revealer, customer):
    customer.national_id = "110101199001015678"
    customer.date_of_birth = date(1991, 2, 3)
    customer.save()
    version = Customer.history.filter(id=customer.pk).order_by("history_id").first()

    history = revealer.get(reverse("admin:customers_customer_history", args=[customer.pk])).content.decode()
    old = revealer.get(
        reverse("admin:customers_customer_simple_history", args=[customer.pk, version.history_id])
    ).content.decode()

    for page in (history, old):
        assert "110101199001015678" not in page
        assert FULL_ID not in page
        assert "1991" not in page and "1990-01-01" not in page
    assert "**************5678" in history
    assert not AccessRecord.objects.exists()
