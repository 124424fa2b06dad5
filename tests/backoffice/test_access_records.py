"""Views of sensitive data write an access record: who, what, when
(DESIGN.md, Audit)."""

import io

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from backoffice import roles
from backoffice.models import AccessRecord
from backoffice.services import record_access
from cases.services.letters import issue_demand_letter
from tests.api.conftest import client_for, grant
from tests.cases.test_letters_render import TODAY, make_letter_debt
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

FULL_ID = "110101199001011234"
REVEAL = AccessRecord.Action.REVEAL_NATIONAL_ID
REVEAL_DATA = AccessRecord.Action.REVEAL_PERSONAL_DATA


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def groups(db):
    call_command("setup_roles", stdout=io.StringIO())


def _member(role, username):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def customer():
    return CustomerFactory(national_id=FULL_ID)


@pytest.fixture
def revealer(db):
    return grant(
        UserFactory(username="revealer"),
        "customers.view_customer",
        "customers.change_customer",
        "customers.view_full_id",
    )


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True)


def _records(**filters):
    return list(AccessRecord.objects.filter(**filters).values_list("user__username", "action", "object_id"))


# --- national IDs ------------------------------------------------------------------


def test_revealing_a_national_id_in_the_admin_writes_an_access_record(client, customer, revealer):
    client.force_login(revealer)
    # Opening the page shows the mask and records nothing; the reveal does.
    assert client.get(reverse("admin:customers_customer_change", args=[customer.pk])).status_code == 200
    assert _records() == []

    response = client.post(
        reverse("admin:customers_customer_reveal", args=[customer.pk]),
        {"field": "national_id", "reason": "caller verification"},
    )

    assert response.status_code == 200
    assert FULL_ID in response.content.decode()
    assert _records() == [("revealer", REVEAL_DATA, str(customer.pk))]
    record = AccessRecord.objects.get()
    assert (record.app_label, record.model_name) == ("customers", "customer")
    assert record.at is not None


def test_a_masked_admin_view_writes_no_access_record(client, customer):
    viewer = grant(UserFactory(username="viewer"), "customers.view_customer", "customers.change_customer")
    client.force_login(viewer)
    response = client.get(reverse("admin:customers_customer_change", args=[customer.pk]))

    assert response.status_code == 200
    assert not AccessRecord.objects.exists()


def test_revealing_national_ids_through_the_api_writes_one_record_per_reveal(revealer):
    first = CustomerFactory(national_id=FULL_ID)
    second = CustomerFactory(national_id="110101199001015678")
    api = client_for(revealer)

    # Lists and details show the mask and record nothing.
    assert api.get(f"/api/v1/customers/{first.pk}/").status_code == 200
    assert api.get("/api/v1/customers/").status_code == 200
    assert _records() == []

    for customer in (first, first, second):
        response = api.post(
            f"/api/v1/customers/{customer.pk}/reveal/",
            {"field": "national_id", "reason": "dispute letter"},
            format="json",
        )
        assert response.status_code == 200
    assert sorted(_records(), key=lambda r: r[2]) == sorted(
        [("revealer", REVEAL_DATA, str(first.pk))] * 2 + [("revealer", REVEAL_DATA, str(second.pk))],
        key=lambda r: r[2],
    )


def test_masked_national_ids_in_the_api_write_no_access_record(customer):
    clerk = grant(UserFactory(username="clerk"), "customers.view_customer")
    response = client_for(clerk).get(f"/api/v1/customers/{customer.pk}/")

    assert response.status_code == 200
    assert not AccessRecord.objects.exists()


# --- letters -----------------------------------------------------------------------


def test_previewing_a_letter_writes_an_access_record(client, superuser):
    debt = make_letter_debt("CN")
    client.force_login(superuser)
    url = reverse("admin:cases_debt_letter_preview", args=[debt.pk]) + "?language=en&date=2026-03-20"

    assert client.get(url).status_code == 200
    assert _records() == [("root", AccessRecord.Action.PREVIEW_LETTER, str(debt.pk))]
    assert "language=en" in AccessRecord.objects.get().detail


def test_downloading_a_letter_writes_an_access_record(client, superuser):
    debt = make_letter_debt("CN")
    message = issue_demand_letter(debt=debt, today=TODAY, actor=superuser)
    client.force_login(superuser)

    response = client.get(reverse("admin:cases_message_letter_download", args=[message.pk]))

    assert response.status_code == 200
    assert _records() == [("root", AccessRecord.Action.DOWNLOAD_LETTER, str(message.pk))]
    record = AccessRecord.objects.get()
    assert (record.app_label, record.model_name) == ("cases", "message")


def test_a_refused_download_writes_no_access_record(client, superuser):
    debt = make_letter_debt("CN")
    message = issue_demand_letter(debt=debt, today=TODAY, actor=superuser)
    client.force_login(UserFactory(username="nobody"))

    response = client.get(reverse("admin:cases_message_letter_download", args=[message.pk]))

    assert response.status_code == 404
    assert not AccessRecord.objects.exists()


# --- audit export ------------------------------------------------------------------


def test_exporting_the_audit_trail_writes_an_access_record(client, groups):
    supervisor = _member(roles.SUPERVISOR, "sup")
    client.force_login(supervisor)

    response = client.get("/admin/audit/csv/", {"reason": "ledger"})
    b"".join(response.streaming_content)

    assert response.status_code == 200
    assert _records() == [("sup", AccessRecord.Action.EXPORT_AUDIT_CSV, "")]
    assert '"reason": "ledger"' in AccessRecord.objects.get().detail


def test_a_refused_export_writes_no_access_record(client, groups):
    client.force_login(_member(roles.COLLECTOR, "col"))

    assert client.get("/admin/audit/csv/").status_code == 403
    assert not AccessRecord.objects.exists()


# --- append-only -------------------------------------------------------------------


def test_an_access_record_cannot_be_changed(superuser, customer):
    record = record_access(user=superuser, action=REVEAL, obj=customer)
    record.detail = "nothing to see"

    with pytest.raises(ValidationError):
        record.save()
    with pytest.raises(ValidationError):
        AccessRecord.objects.update(detail="nothing")
    assert AccessRecord.objects.get().detail == ""


def test_an_access_record_cannot_be_deleted(superuser, customer):
    record = record_access(user=superuser, action=REVEAL, obj=customer)

    with pytest.raises(ValidationError):
        record.delete()
    with pytest.raises(ValidationError):
        AccessRecord.objects.all().delete()
    assert AccessRecord.objects.count() == 1


# --- the admin list ----------------------------------------------------------------

LIST = "admin:backoffice_accessrecord_changelist"


@pytest.mark.parametrize("role", [roles.SUPERVISOR, roles.COMPLIANCE, roles.ADMINISTRATOR])
def test_audit_roles_see_every_access_record(client, groups, superuser, customer, role):
    record = record_access(user=superuser, action=REVEAL, obj=customer)
    client.force_login(_member(role, "reader"))

    response = client.get(reverse(LIST))

    assert response.status_code == 200
    assert list(response.context["cl"].queryset) == [record]
    change = client.get(reverse("admin:backoffice_accessrecord_change", args=[record.pk]))
    assert change.status_code == 200


def test_a_collector_is_refused_the_access_records(client, groups, superuser, customer):
    record = record_access(user=superuser, action=REVEAL, obj=customer)
    client.force_login(_member(roles.COLLECTOR, "col"))

    assert client.get(reverse(LIST)).status_code == 403
    assert client.get(reverse("admin:backoffice_accessrecord_change", args=[record.pk])).status_code in (
        403,
        404,
    )


def test_nobody_adds_changes_or_deletes_access_records_in_the_admin(client, groups, superuser, customer):
    record = record_access(user=superuser, action=REVEAL, obj=customer)
    client.force_login(superuser)

    assert client.get(reverse("admin:backoffice_accessrecord_add")).status_code == 403
    change = reverse("admin:backoffice_accessrecord_change", args=[record.pk])
    assert client.post(change, {}).status_code == 403
    assert (
        client.post(
            reverse("admin:backoffice_accessrecord_delete", args=[record.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert AccessRecord.objects.count() == 1
