"""The masked national ID is no oracle (issue #15, "The mask is an oracle").

Knowing the last four characters the mask shows, a collector rebuilt a whole
ID by searching ``<one digit><known suffix>`` and by ``?national_id__regex=``.
Personal values now match only whole and normalised, every other lookup on
them is refused, and a search by a whole value is recorded without the value.
"""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from backoffice import access
from backoffice.models import AccessRecord
from customers.models import ContactPoint, Customer, ThirdPartyContact

pytest_plugins = ["tests.personas"]
pytestmark = pytest.mark.django_db

CHANGELIST = "admin:customers_customer_changelist"
API = "/api/v1/customers/"
SEARCH = AccessRecord.Action.SEARCH_PERSONAL_DATA
PARTIAL_LOOKUPS = ("regex", "iregex", "startswith", "istartswith", "icontains", "contains", "endswith")


@pytest.fixture
def target(world):
    """Case A's customer: the collector's own, so every search is allowed."""
    return world.row(Customer, "A")


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _admin_hits(client, **params) -> list[int]:
    response = client.get(reverse(CHANGELIST), params)
    assert response.status_code == 200, response.status_code
    return [c.pk for c in response.context["cl"].result_list]


def _api_hits(client, **params) -> list[int]:
    response = client.get(API, params)
    assert response.status_code == 200, response.status_code
    return [row["id"] for row in response.json()["results"]]


def _spaced(value: str) -> str:
    return " ".join(value[i : i + 4] for i in range(0, len(value), 4))


def test_guessing_one_digit_before_the_known_suffix_finds_nothing_in_the_admin(client, target, personas):
    client.force_login(personas["collector"])
    suffix = target.national_id[-4:]

    for digit in "0123456789":
        assert _admin_hits(client, q=digit + suffix) == []
    # Every part of the ID misses, however long.
    for part in (suffix, target.national_id[:-1], target.national_id[1:], target.national_id[:6]):
        assert _admin_hits(client, q=part) == []


def test_guessing_one_digit_before_the_known_suffix_finds_nothing_in_the_api(target, personas):
    api = _api(personas["collector"])
    suffix = target.national_id[-4:]

    for digit in "0123456789":
        assert _api_hits(api, search=digit + suffix) == []
    assert _api_hits(api, search=target.national_id[1:]) == []


def test_partial_phone_numbers_find_nothing(client, target, personas):
    phone = ContactPoint.objects.filter(customer=target, kind="phone").first().value
    client.force_login(personas["collector"])

    assert _admin_hits(client, q=phone[-4:]) == []
    assert _admin_hits(client, q=phone[:-1]) == []
    assert _api_hits(_api(personas["collector"]), search=phone[3:-2]) == []


@pytest.mark.parametrize("lookup", PARTIAL_LOOKUPS)
def test_partial_lookups_on_the_national_id_are_refused_in_the_admin(client, target, personas, lookup):
    client.force_login(personas["collector"])

    response = client.get(reverse(CHANGELIST), {f"national_id__{lookup}": target.national_id[:10]})

    assert response.status_code == 400
    assert "cl" not in (response.context or {})


@pytest.mark.parametrize(
    ("url", "param"),
    [
        (CHANGELIST, "national_id"),
        (CHANGELIST, "date_of_birth__year"),
        (CHANGELIST, "contact_points__value__startswith"),
        (CHANGELIST, "third_parties__phone__contains"),
        ("admin:customers_contactpoint_changelist", "value__startswith"),
        ("admin:customers_contactpoint_changelist", "customer__national_id__regex"),
        ("admin:customers_thirdpartycontact_changelist", "phone__endswith"),
        ("admin:customers_thirdpartycontact_changelist", "customer__national_id__startswith"),
    ],
)
def test_any_query_string_lookup_on_personal_data_is_refused_in_the_admin(client, personas, url, param):
    client.force_login(personas["superuser"])

    assert client.get(reverse(url), {param: "1"}).status_code == 400


@pytest.mark.parametrize("lookup", PARTIAL_LOOKUPS)
def test_partial_lookups_in_the_api_filter_nothing(world, target, personas, lookup):
    api = _api(personas["collector"])
    wrong = "9" + target.national_id[-4:]  # would empty the list if it filtered

    assert _api_hits(api, **{f"national_id__{lookup}": wrong}) == [target.pk]
    for path, model in (("cases/", "case"), ("debts/", "debt")):
        response = api.get(f"/api/v1/{path}", {f"customer__national_id__{lookup}": wrong})
        assert response.status_code == 200, path
        assert response.json()["count"] == 1, f"{model} list was filtered by a national ID lookup"
    for nested, field in (("contact-points", "value"), ("third-parties", "phone")):
        response = api.get(f"{API}{target.pk}/{nested}/", {f"{field}__{lookup}": "+1"})
        assert response.status_code == 200
        assert response.json()["count"] == 1, f"{nested} list was filtered by a {field} lookup"


def test_the_whole_id_finds_the_customer_for_every_role_that_sees_it(client, world, personas):
    """For each persona and each world customer: the whole ID (typed with
    spaces, in lower case) finds exactly the customers the persona sees, in
    the admin (where the persona may open the list) and the API, and each
    search writes one record that names the field and not the value."""
    failures = []
    for name in world.PERSONAS:
        user = world.fresh(personas[name])
        visible = set(access.customers_for(user).values_list("pk", flat=True))
        admin_list = user.has_perm("customers.view_customer")
        client.force_login(user)
        api = _api(user)
        for letter in sorted(world.cases):
            customer = world.row(Customer, letter)
            expected = [customer.pk] if customer.pk in visible else []
            term = _spaced(customer.national_id).lower()
            before = AccessRecord.objects.filter(user=user, action=SEARCH).count()

            if admin_list and _admin_hits(client, q=term) != expected:
                failures.append(f"{name}: admin search for case {letter}'s ID, expected {expected}")
            if _api_hits(api, search=term) != expected:
                failures.append(f"{name}: API search for case {letter}'s ID, expected {expected}")

            records = AccessRecord.objects.filter(user=user, action=SEARCH).order_by("id")[before:]
            if len(records) != 1 + admin_list:
                failures.append(f"{name}: {len(records)} search records, expected {1 + admin_list}")
            for record in records:
                if "national_id" not in record.detail:
                    failures.append(f"{name}: search record does not name the field: {record.detail}")
                if _leaks(record, customer.national_id):
                    failures.append(f"{name}: search record holds the searched ID")
    assert not failures, "\n".join(failures)


def _leaks(record, value: str) -> bool:
    written = " ".join(str(getattr(record, f.attname)) for f in AccessRecord._meta.concrete_fields)
    return value in written or _spaced(value).lower() in written.lower()


def test_a_whole_phone_finds_the_customer_and_is_recorded_without_the_number(client, target, personas):
    phone = ContactPoint.objects.filter(customer=target, kind="phone").first().value
    relative = ThirdPartyContact.objects.filter(customer=target).first().phone
    client.force_login(personas["collector"])
    typed = f"{phone[3:6]} {phone[6:10]} {phone[10:]}"  # a national number with spaces

    assert _admin_hits(client, q=typed) == [target.pk]
    assert _api_hits(_api(personas["collector"]), search=relative) == [target.pk]

    records = list(AccessRecord.objects.filter(action=SEARCH).order_by("id"))
    assert len(records) == 2
    for record in records:
        assert "phone" in record.detail
        assert not _leaks(record, phone) and not _leaks(record, relative)


def test_a_name_search_still_matches_part_of_the_name_and_records_nothing(client, target, personas):
    client.force_login(personas["collector"])

    assert _admin_hits(client, q=target.name[1:]) == [target.pk]
    assert _api_hits(_api(personas["collector"]), search=target.name[:1]) == [target.pk]
    assert not AccessRecord.objects.filter(action=SEARCH).exists()
