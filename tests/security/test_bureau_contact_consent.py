"""Bureau-sourced contact points are not dialled until verified (issue #15).

Replayed finding: a skip trace added the debtor's "new" numbers with
``consent=True``, so the next call or SMS went to a number nobody had
confirmed (possibly a stranger's). Now such points are stored with consent
unknown (``None``), the contact rules refuse a call, SMS or email to them
with ``LL-CONSENT-UNKNOWN`` (the refused attempt is logged like every
refusal), and a collector who confirms the number with the debtor records
their consent through ``verify_contact_point`` (admin action or
``customers/{id}/contact-points/{pk}/verify/``), with history and reason.
"""

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from backoffice.errors import NotAllowed
from cases.bureau_inquiry.payloads import parse_skip_trace
from cases.bureau_inquiry.services import apply_skip_trace
from cases.compliance.engine import ContactRequest, decide
from cases.models import CollectionCase, ContactAttempt
from cases.services.contacts import ContactRefused, check_contact, log_contact
from customers.models import ContactPoint
from customers.services import verify_contact_point
from tests.bureau_inquiry.fake_bureau import good_trace
from tests.factories import ContactPointFactory, CustomerFactory, UserFactory, make_debt

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 2, 10, 12, 0, tzinfo=SHANGHAI)
RULE = "LL-CONSENT-UNKNOWN"


@pytest.fixture(autouse=True)
def roles(db):
    call_command("setup_roles", stdout=io.StringIO())


@pytest.fixture(autouse=True)
def at_noon():
    with time_machine.travel(NOON, tick=False):
        yield


def member(role: str, username: str):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=role))
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def collector():
    return member("Collector", "ann")


@pytest.fixture
def case(collector):
    customer = CustomerFactory(jurisdiction="CN", name="Wang Fang")
    ContactPointFactory(customer=customer, value="+8613800000001", primary=True, verified=True)
    debt = make_debt(customer=customer, opened_on=date(2026, 1, 1))
    CollectionCase.objects.filter(pk=debt.case_id).update(assigned_to=collector)
    return CollectionCase.objects.get(pk=debt.case_id)


@pytest.fixture
def traced(case, collector):
    """The skip trace's phone, email and address, added to the case's customer."""
    apply_skip_trace(
        customer=case.customer, trace=parse_skip_trace(good_trace()), actor=collector, reason="skip trace"
    )
    return ContactPoint.objects.get(customer=case.customer, kind="phone", source="bureau")


def call(case, actor, point, outcome="right_party"):
    return log_contact(
        case=case,
        party="debtor",
        channel="call",
        outcome=outcome,
        started_at=NOON,
        actor=actor,
        contact_point=point,
    )


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def verify_url(point) -> str:
    return f"/api/v1/customers/{point.customer_id}/contact-points/{point.pk}/verify/"


# --- stored unknown -----------------------------------------------------------------------


def test_skip_trace_stores_every_bureau_point_with_consent_unknown_and_unverified(case, traced):
    points = ContactPoint.objects.filter(customer=case.customer, source="bureau")
    assert points.count() == 3
    assert set(points.values_list("consent", "verified")) == {(None, False)}


def test_contact_points_from_the_creditor_keep_consent_true_by_default(case):
    assert ContactPoint.objects.get(customer=case.customer, source="creditor").consent is True


def test_the_api_shows_unknown_consent_as_null_under_the_same_field_name(case, traced, collector):
    response = api(collector).get(f"/api/v1/customers/{case.customer_id}/contact-points/")
    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()["results"]}
    assert rows[traced.pk]["consent"] is None and rows[traced.pk]["verified"] is False


# --- refused until verified ---------------------------------------------------------------


def test_a_call_to_an_unverified_bureau_number_is_refused_with_the_rule(case, traced, collector):
    decision = check_contact(
        case=case, party="debtor", channel="call", at=NOON, actor=collector, contact_point=traced
    )
    assert not decision.allowed
    assert decision.rules == [RULE]
    assert "unknown" in decision.reason and "skip-traced" in decision.reason
    assert decision.next_allowed_at is None


def test_the_refused_call_is_logged_as_refused_with_the_rule(case, traced, collector):
    with pytest.raises(ContactRefused) as refused:
        call(case, collector, traced)
    assert refused.value.rules == [RULE]
    attempt = ContactAttempt.objects.get(case=case)
    assert attempt.outcome == ContactAttempt.Outcome.REFUSED
    assert attempt.rules == [RULE]
    assert "skip-traced" in attempt.refusal_reason
    assert attempt.contact_point_id == traced.pk
    case.refresh_from_db()
    assert case.last_contact_at is None  # a refusal is not a contact


def test_the_contacts_api_answers_409_with_the_rule_and_stores_the_refusal(case, traced, collector):
    body = {
        "case": case.pk,
        "party": "debtor",
        "channel": "sms",
        "contact_point": traced.pk,
        "outcome": "right_party",
        "started_at": NOON.isoformat(),
    }
    response = api(collector).post("/api/v1/contacts/", body, format="json")
    assert response.status_code == 409
    assert response.json()["rules"] == [RULE]
    assert ContactAttempt.objects.get(case=case).outcome == ContactAttempt.Outcome.REFUSED


def test_the_creditors_own_number_is_still_allowed(case, traced, collector):
    known = ContactPoint.objects.get(customer=case.customer, source="creditor")
    assert call(case, collector, known).outcome == "right_party"


def _request(**kwargs) -> ContactRequest:
    values = {"at": NOON, "channel": "call", "jurisdiction": "CN", "time_zones": ("Asia/Shanghai",)}
    return ContactRequest(**{**values, **kwargs})


@pytest.mark.parametrize("channel", ["call", "sms", "email"])
def test_the_rule_refuses_dialling_and_messaging_an_unknown_point(channel):
    assert decide(_request(channel=channel, point_consent=None)).rules == [RULE]


@pytest.mark.parametrize("channel", ["letter", "visit"])
def test_the_rule_leaves_letters_and_visits_to_addresses_alone(channel):
    assert RULE not in decide(_request(channel=channel, point_consent=None)).rules


def test_revoked_consent_is_still_the_contact_point_rule_not_the_unknown_one():
    assert decide(_request(point_consent=False)).rules == ["contact_point"]


def test_a_first_party_creditor_cannot_turn_the_rule_into_advice():
    request = _request(
        jurisdiction="US",
        time_zones=("America/New_York",),
        at=datetime(2026, 2, 10, 12, 0, tzinfo=ZoneInfo("America/New_York")),
        point_consent=None,
        first_party=True,
        rule_modes={RULE: "advise"},
    )
    decision = decide(request)
    assert not decision.allowed and decision.rules == [RULE] and decision.advisories == []


# --- verification ----------------------------------------------------------------------------


def test_after_verification_with_consent_the_call_is_allowed(case, traced, collector):
    point = verify_contact_point(
        contact_point=traced, consent=True, actor=collector, reason="debtor confirmed on inbound call"
    )
    assert (point.verified, point.consent) == (True, True)
    version = point.history.order_by("-history_id").first()
    assert version.history_user == collector
    assert version.history_change_reason == "debtor confirmed on inbound call"
    assert (version.verified, version.consent) == (True, True)
    attempt = call(case, collector, point)
    assert attempt.outcome == "right_party" and attempt.rules == []


def test_verified_without_consent_the_call_is_refused_as_opted_out(case, traced, collector):
    point = verify_contact_point(contact_point=traced, consent=False, actor=collector, reason="not theirs")
    with pytest.raises(ContactRefused) as refused:
        call(case, collector, point)
    assert refused.value.rules == ["contact_point"]


def test_verification_needs_a_reason_and_writes_nothing_without_one(case, traced, collector):
    before = traced.history.count()
    with pytest.raises(Exception) as error:
        verify_contact_point(contact_point=traced, consent=True, actor=collector, reason="  ")
    assert "reason" in error.value.message_dict
    traced.refresh_from_db()
    assert traced.consent is None and traced.history.count() == before


def test_a_collector_cannot_verify_points_of_someone_elses_customer(case, traced):
    other = member("Collector", "bob")
    with pytest.raises(NotAllowed):
        verify_contact_point(contact_point=traced, consent=True, actor=other, reason="guess")
    traced.refresh_from_db()
    assert traced.consent is None and traced.verified is False


def test_the_api_verifies_with_history_and_reason(case, traced, collector):
    response = api(collector).post(
        verify_url(traced), {"consent": True, "reason": "confirmed by the debtor"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["consent"] is True and response.json()["verified"] is True
    traced.refresh_from_db()
    assert traced.history.order_by("-history_id").first().history_change_reason == "confirmed by the debtor"


def test_the_api_refuses_a_verification_without_consent_or_reason(case, traced, collector):
    before = traced.history.count()
    response = api(collector).post(verify_url(traced), {"reason": "x" * 101}, format="json")
    assert response.status_code == 400
    assert set(response.json()) >= {"consent", "reason"}
    assert traced.history.count() == before


def test_the_api_hides_other_customers_points_and_needs_the_permission(case, traced):
    outsider = member("Collector", "bob")
    assert (
        api(outsider).post(verify_url(traced), {"consent": True, "reason": "x"}, format="json").status_code
        == 404
    )
    compliance = member("Compliance", "cora")  # sees every case, may not verify
    response = api(compliance).post(verify_url(traced), {"consent": True, "reason": "x"}, format="json")
    assert response.status_code == 403
    traced.refresh_from_db()
    assert traced.consent is None


def test_the_admin_action_verifies_the_selected_points(client, case, traced, collector):
    client.force_login(collector)
    response = client.post(
        reverse("admin:customers_contactpoint_changelist"),
        {
            "action": "verify_selected",
            "_selected_action": [traced.pk],
            "apply": "1",
            "consent": "yes",
            "reason": "debtor confirmed",
        },
    )
    assert response.status_code == 302
    traced.refresh_from_db()
    assert (traced.verified, traced.consent) == (True, True)
    version = traced.history.order_by("-history_id").first()
    assert (version.history_user, version.history_change_reason) == (collector, "debtor confirmed")


# --- the case page -----------------------------------------------------------------------------


def test_the_case_page_shows_the_number_as_unverified_and_not_as_the_one_to_dial(
    client, case, traced, collector
):
    client.force_login(collector)
    page = client.get(reverse("admin:cases_collectioncase_work", args=[case.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "unverified (bureau)" in html
    compliance = html.split('id="compliance"', 1)[1].split("</div>", 1)[0]
    assert "+8613800000001" in compliance and traced.value not in compliance


def test_with_only_a_bureau_number_the_case_page_says_do_not_call(client, case, traced, collector):
    ContactPoint.objects.filter(customer=case.customer, source="creditor").delete()
    client.force_login(collector)
    html = client.get(reverse("admin:cases_collectioncase_work", args=[case.pk])).content.decode()
    compliance = html.split('id="compliance"', 1)[1].split("</div>", 1)[0]
    assert "Do not call now" in compliance and RULE in compliance


def test_the_flag_reads_in_simplified_chinese():
    from django.utils import translation

    with translation.override("zh-hans"):
        assert translation.gettext("unverified (bureau)") == "未核实（征信来源）"
