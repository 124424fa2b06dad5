"""Skip-trace results become unverified "bureau" contact points and an
employer, never overwriting or duplicating what the customer already has."""

import pytest

from cases.bureau_inquiry.models import Outcome
from cases.bureau_inquiry.payloads import parse_skip_trace
from cases.bureau_inquiry.services import apply_skip_trace, refresh_bureau_report
from customers.models import ContactPoint, ThirdPartyContact
from tests.bureau_inquiry.fake_bureau import SKIP_TRACE_PATH, Reply, good_trace
from tests.factories import ContactPointFactory, CustomerFactory, ThirdPartyContactFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    return CustomerFactory(jurisdiction="CN")


@pytest.fixture
def actor():
    return UserFactory()


def apply(customer, actor, **trace):
    return apply_skip_trace(
        customer=customer, trace=parse_skip_trace(good_trace(**trace)), actor=actor, reason="skip trace"
    )


def bureau_points(customer):
    return {
        (p.kind, p.value, p.verified, p.primary, p.label)
        for p in ContactPoint.objects.filter(customer=customer, source="bureau")
    }


def test_new_points_are_added_unverified_with_source_bureau_and_e164_phones(customer, actor):
    applied = apply(customer, actor)
    assert applied.contact_points_added == 3
    assert bureau_points(customer) == {
        ("phone", "+8613912345678", False, False, "mobile"),
        ("email", "debtor@example.com", False, False, ""),
        ("address", "88 Jianguo Road, Chaoyang, Beijing", False, False, ""),
    }
    point = ContactPoint.objects.get(customer=customer, kind="phone", source="bureau")
    # Consent unknown until a collector verifies the number (issue #15).
    assert set(
        ContactPoint.objects.filter(customer=customer, source="bureau").values_list("consent", flat=True)
    ) == {None}
    version = point.history.get()
    assert (version.history_user, version.history_change_reason) == (actor, "skip trace")


def test_a_number_the_customer_has_is_neither_duplicated_nor_changed(customer, actor):
    verified = ContactPointFactory(
        customer=customer,
        value="+8613912345678",
        verified=True,
        primary=True,
        source="creditor",
        label="home",
    )
    email = ContactPointFactory(customer=customer, kind="email", value="Debtor@Example.com", verified=False)
    address = ContactPointFactory(
        customer=customer, kind="address", value="88 jianguo road, chaoyang, beijing", verified=True
    )
    applied = apply(customer, actor)
    assert applied.contact_points_added == 0
    for point in (verified, email, address):
        before = (point.value, point.verified, point.primary, point.source, point.label)
        point.refresh_from_db()
        assert (point.value, point.verified, point.primary, point.source, point.label) == before
        assert point.history.count() == 1  # no change written
    assert ContactPoint.objects.filter(customer=customer).count() == 3


def test_numbers_repeated_in_one_reply_are_added_once(customer, actor):
    apply(customer, actor, phones=[{"number": "139 1234 5678"}, {"number": "+86 13912345678"}])
    assert ContactPoint.objects.filter(customer=customer, kind="phone").count() == 1


def test_an_invalid_phone_is_skipped_and_noted(customer, actor):
    applied = apply(customer, actor, phones=[{"number": "12345"}])
    assert not ContactPoint.objects.filter(customer=customer, kind="phone").exists()
    assert applied.notes == ["phone ignored (not a valid number): 12345"]


def test_the_employer_is_added_once_as_a_third_party(customer, actor):
    assert apply(customer, actor).employer_added
    employer = ThirdPartyContact.objects.get(customer=customer)
    assert (employer.relationship, employer.name, employer.phone) == (
        "employer",
        "Acme Trading Co.",
        "+861065123456",
    )
    assert not apply(customer, actor, employer={"name": "ACME trading co.", "phone": None}).employer_added
    assert ThirdPartyContact.objects.filter(customer=customer).count() == 1


def test_a_known_relative_of_the_same_name_does_not_hide_a_new_employer(customer, actor):
    ThirdPartyContactFactory(customer=customer, relationship="relative", name="Acme Trading Co.")
    assert apply(customer, actor).employer_added


def test_a_second_refresh_adds_nothing_new(customer, actor, bureau_client, fake_bureau):
    first = refresh_bureau_report(customer_id=customer.pk, actor=actor, reason="one", client=bureau_client)
    second = refresh_bureau_report(customer_id=customer.pk, actor=actor, reason="two", client=bureau_client)
    assert (first.outcome, second.outcome) == (Outcome.OK, Outcome.OK)
    assert (first.report.contact_points_added, first.report.employer_added) == (3, True)
    assert (second.report.contact_points_added, second.report.employer_added) == (0, False)
    assert ContactPoint.objects.filter(customer=customer).count() == 3


def test_a_bad_skip_trace_adds_no_contact_point(customer, actor, bureau_client, fake_bureau):
    fake_bureau.queue(SKIP_TRACE_PATH, Reply(body=good_trace(emails=[{"value": 7}])))
    attempt = refresh_bureau_report(customer_id=customer.pk, actor=actor, reason="t", client=bureau_client)
    assert attempt.outcome == Outcome.MALFORMED
    assert not ContactPoint.objects.filter(customer=customer).exists()
