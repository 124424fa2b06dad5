"""``contacts/check/`` and ``contacts/``: the contact rules through the API
(RULES §4). A refused attempt answers 409 and is stored."""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import connection

from cases.models import CollectionCase, ContactAttempt
from cases.services.holds import place_hold
from tests.api.conftest import client_for
from tests.factories import ContactPointFactory, ThirdPartyContactFactory, UserFactory, make_debt

pytestmark = pytest.mark.django_db

URL = "/api/v1/contacts/"
CHECK = "/api/v1/contacts/check/"
SHANGHAI = ZoneInfo("Asia/Shanghai")
MORNING = datetime(2026, 2, 2, 10, 0, tzinfo=SHANGHAI)
LATE = datetime(2026, 2, 2, 23, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def roles(db):
    call_command("setup_roles", stdout=io.StringIO())


@pytest.fixture
def collector():
    user = UserFactory(username="collector")
    user.groups.add(Group.objects.get(name="Collector"))
    return user


@pytest.fixture
def collector_api(collector):
    return client_for(collector)


@pytest.fixture
def debt(collector):
    debt = make_debt()
    CollectionCase.objects.filter(pk=debt.case_id).update(assigned_to=collector)
    return debt


@pytest.fixture
def phone(debt):
    return ContactPointFactory(customer=debt.customer)


def body(on, phone, **overrides):
    data = {
        "case": on.case_id,
        "party": "debtor",
        "contact_point": phone.pk,
        "channel": "call",
        "started_at": MORNING.isoformat(),
        "outcome": "right_party",
    }
    data.update(overrides)
    return data


# -- check ---------------------------------------------------------------------------


def test_check_in_hours_is_allowed_and_logs_nothing(collector_api, debt, phone):
    response = collector_api.post(
        CHECK,
        {
            "case": debt.case_id,
            "party": "debtor",
            "contact_point": phone.pk,
            "channel": "call",
            "at": MORNING,
        },
        format="json",
    )

    assert response.status_code == 200
    assert response.json() == {
        "allowed": True,
        "rules": [],
        "reason": "",
        "next_allowed_at": None,
        "advisories": [],
        "requires_disclosure": False,
        # CN: three conversations a day with the debtor, none used yet.
        "calls_left_today": 3,
    }
    assert not ContactAttempt.objects.exists()


def test_check_at_23_names_the_hours_rule_and_the_next_allowed_moment(collector_api, debt, phone):
    response = collector_api.post(
        CHECK,
        {"case": debt.case_id, "contact_point": phone.pk, "channel": "sms", "at": LATE.isoformat()},
        format="json",
    )

    decision = response.json()
    assert response.status_code == 200
    assert (decision["allowed"], decision["rules"]) == (False, ["hours"])
    assert decision["reason"]
    assert datetime.fromisoformat(decision["next_allowed_at"]) == datetime(2026, 2, 3, 8, 0, tzinfo=SHANGHAI)
    assert not ContactAttempt.objects.exists()


def test_check_on_a_held_case_names_the_hold_rule(collector_api, collector, debt, phone):
    place_hold(case=debt.case_id, hold="cease", actor=collector, reason="customer asked")

    decision = collector_api.post(
        CHECK,
        {"case": debt.case_id, "contact_point": phone.pk, "channel": "call", "at": MORNING},
        format="json",
    ).json()

    assert decision["allowed"] is False and decision["rules"] == ["hold"]


def test_check_without_at_asks_about_now(collector_api, debt, phone):
    response = collector_api.post(CHECK, {"case": debt.case_id, "channel": "letter"}, format="json")

    assert response.status_code == 200
    assert response.json()["allowed"] is True


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"channel": "pigeon"}, "channel"),
        ({"party": "neighbour"}, "party"),
        ({"case": 999999}, "case"),
        ({"party": "third_party"}, "third_party"),
        ({"channel": "email"}, "contact_point"),
    ],
)
def test_check_with_bad_input_answers_400_for_the_field(collector_api, debt, phone, overrides, field):
    data = {"case": debt.case_id, "contact_point": phone.pk, "channel": "call", "at": MORNING.isoformat()}
    data.update(overrides)

    response = collector_api.post(CHECK, data, format="json")

    assert response.status_code == 400
    assert field in response.json()


def test_check_of_another_customers_contact_point_answers_400(collector_api, debt):
    stranger = ContactPointFactory()

    response = collector_api.post(
        CHECK, {"case": debt.case_id, "contact_point": stranger.pk, "channel": "call"}, format="json"
    )

    assert response.status_code == 400 and "contact_point" in response.json()


# -- log -------------------------------------------------------------------------------


def test_logging_an_allowed_call_answers_201_with_the_attempt(collector_api, collector, debt, phone):
    response = collector_api.post(
        URL, body(debt, phone, note="will pay Friday", duration_s=95), format="json"
    )

    assert response.status_code == 201
    attempt = ContactAttempt.objects.get()
    data = response.json()
    assert data["id"] == attempt.pk
    assert (data["case"], data["outcome"], data["channel"], data["duration_s"]) == (
        debt.case_id,
        "right_party",
        "call",
        95,
    )
    assert data["created_by"] == collector.pk and attempt.created_by == collector
    assert data["rules"] == [] and data["note"] == "will pay Friday"
    assert CollectionCase.objects.get(pk=debt.case_id).last_contact_at == MORNING


def test_a_refused_call_answers_409_and_the_refused_attempt_is_stored(collector_api, debt, phone):
    response = collector_api.post(URL, body(debt, phone, started_at=LATE.isoformat()), format="json")

    assert response.status_code == 409
    data = response.json()
    assert data["rules"] == ["hours"] and data["reason"]
    stored = ContactAttempt.objects.get(pk=data["attempt"])
    assert (stored.outcome, stored.rules) == ("refused", ["hours"])
    assert stored.refusal_reason == data["reason"]
    assert CollectionCase.objects.get(pk=debt.case_id).last_contact_at is None


def test_a_call_on_a_held_case_is_refused_and_stored(collector_api, collector, debt, phone):
    place_hold(case=debt.case_id, hold="dispute", actor=collector, reason="consumer disputes")

    response = collector_api.post(URL, body(debt, phone), format="json")

    assert response.status_code == 409 and response.json()["rules"] == ["hold"]
    assert ContactAttempt.objects.get().outcome == "refused"


def test_the_refused_attempt_survives_atomic_requests(collector_api, debt, phone, monkeypatch):
    # A request-level transaction must not roll the stored refusal back.
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)

    response = collector_api.post(URL, body(debt, phone, started_at=LATE.isoformat()), format="json")

    assert response.status_code == 409
    assert ContactAttempt.objects.filter(outcome="refused", rules=["hours"]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_refused_attempt_is_committed(roles):
    # Real commits (no test transaction around the request).
    collector = UserFactory(username="committed")
    collector.groups.add(Group.objects.get(name="Collector"))
    debt = make_debt()
    CollectionCase.objects.filter(pk=debt.case_id).update(assigned_to=collector)
    phone = ContactPointFactory(customer=debt.customer)

    response = client_for(collector).post(URL, body(debt, phone, started_at=LATE.isoformat()), format="json")

    assert response.status_code == 409
    assert ContactAttempt.objects.get(pk=response.json()["attempt"]).outcome == "refused"


def test_an_inbound_contact_is_not_checked(collector_api, debt, phone):
    response = collector_api.post(
        URL, body(debt, phone, direction="inbound", started_at=LATE.isoformat()), format="json"
    )

    assert response.status_code == 201 and response.json()["outcome"] == "right_party"


def test_a_callback_sets_the_next_action(collector_api, debt, phone):
    response = collector_api.post(
        URL,
        body(
            debt,
            phone,
            outcome="callback",
            callback_at=datetime(2026, 2, 4, 15, 0, tzinfo=SHANGHAI).isoformat(),
        ),
        format="json",
    )

    assert response.status_code == 201
    assert CollectionCase.objects.get(pk=debt.case_id).next_action_on.isoformat() == "2026-02-04"


def test_a_third_party_contact_names_the_third_party(collector_api, debt):
    relative = ThirdPartyContactFactory(customer=debt.customer)

    response = collector_api.post(
        URL,
        {
            "case": debt.case_id,
            "party": "third_party",
            "third_party": relative.pk,
            "channel": "call",
            "started_at": MORNING.isoformat(),
            "outcome": "third_party",
            "debt": debt.pk,
        },
        format="json",
    )

    assert response.status_code == 201
    assert (response.json()["third_party"], response.json()["debt"]) == (relative.pk, debt.pk)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"outcome": "refused"}, "outcome"),
        ({"outcome": "delighted"}, "outcome"),
        ({"channel": "fax"}, "channel"),
        ({"duration_s": -5}, "duration_s"),
        ({"outcome": "callback"}, "callback_at"),
        ({"case": 999999}, "case"),
        ({"debt": 999999}, "debt"),
        ({"started_at": "yesterday"}, "started_at"),
        ({"direction": "sideways"}, "direction"),
    ],
)
def test_logging_bad_input_answers_400_and_writes_nothing(collector_api, debt, phone, overrides, field):
    response = collector_api.post(URL, body(debt, phone, **overrides), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not ContactAttempt.objects.exists()


def test_a_debt_of_another_case_answers_400(collector_api, debt, phone):
    other = make_debt()

    response = collector_api.post(URL, body(debt, phone, debt=other.pk), format="json")

    assert response.status_code == 400 and "debt" in response.json()
    assert not ContactAttempt.objects.exists()


def test_a_case_the_user_cannot_see_answers_400(debt, phone):
    # May log contacts, but has no role, so sees no cases.
    logger = UserFactory(username="logger")
    logger.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_contactattempt", "view_contactpoint"])
    )

    response = client_for(logger).post(URL, body(debt, phone), format="json")

    assert response.status_code == 400 and "case" in response.json()
    assert not ContactAttempt.objects.exists()


def test_staff_without_a_role_may_not_log_contacts(debt, phone, outsider_api):
    response = outsider_api.post(URL, body(debt, phone), format="json")

    assert response.status_code == 403
    assert not ContactAttempt.objects.exists()


def test_compliance_may_not_log_contacts(debt, phone):
    auditor = UserFactory(username="auditor")
    auditor.groups.add(Group.objects.get(name="Compliance"))

    response = client_for(auditor).post(URL, body(debt, phone), format="json")

    assert response.status_code == 403
    assert not ContactAttempt.objects.exists()


def test_contacts_list_filters_by_case_newest_first(api, collector, debt, phone):
    other = make_debt()
    api.post(URL, body(debt, phone, started_at="2026-02-02T09:00:00+08:00"), format="json")
    api.post(URL, body(debt, phone, started_at="2026-02-02T11:00:00+08:00"), format="json")
    api.post(URL, body(other, ContactPointFactory(customer=other.customer)), format="json")

    results = api.get(URL, {"case": debt.case_id}).json()["results"]

    assert [r["started_at"][:19] for r in results] == ["2026-02-02T11:00:00", "2026-02-02T09:00:00"]


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_attempts_cannot_be_changed_or_deleted(api, debt, phone, method):
    attempt_id = api.post(URL, body(debt, phone), format="json").json()["id"]

    response = getattr(api, method)(f"{URL}{attempt_id}/", {"note": "edited"}, format="json")

    assert response.status_code == 405
    assert ContactAttempt.objects.get().note == ""


def test_contacts_list_runs_a_constant_number_of_queries(
    collector_api, debt, phone, django_assert_max_num_queries
):
    for hour in range(9, 14):
        collector_api.post(
            URL, body(debt, phone, started_at=f"2026-02-02T{hour:02d}:00:00+08:00"), format="json"
        )

    # Permission lookups of the user, the count, the page.
    with django_assert_max_num_queries(5):
        response = collector_api.get(URL, {"case": debt.case_id})

    assert response.json()["count"] == 5


def test_a_collector_cannot_log_on_someone_elses_case(collector_api, phone):
    elsewhere = make_debt()

    response = collector_api.post(
        URL, body(elsewhere, ContactPointFactory(customer=elsewhere.customer)), format="json"
    )

    assert response.status_code == 400 and "case" in response.json()
    assert not ContactAttempt.objects.exists()


def test_a_collector_cannot_work_their_closed_case(collector_api, debt, phone):
    CollectionCase.objects.filter(pk=debt.case_id).update(stage="closed")

    response = collector_api.post(URL, body(debt, phone), format="json")

    assert response.status_code == 409 and "case" in response.json()
    assert not ContactAttempt.objects.exists()
