"""Logging contact attempts through the contact rules (RULES §4)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from cases.models import CollectionCase, ContactAttempt, Message, MessageTemplate
from cases.services.contacts import ContactRefused, check_contact, log_contact
from cases.services.holds import place_hold, release_hold
from tests.factories import (
    ContactPointFactory,
    CustomerFactory,
    ThirdPartyContactFactory,
    UserFactory,
    make_debt,
)

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
MORNING = datetime(2026, 2, 2, 10, 0, tzinfo=SHANGHAI)
LATE = datetime(2026, 2, 2, 23, 0, tzinfo=SHANGHAI)


@pytest.fixture
def collector():
    return UserFactory(username="collector", password=None)


@pytest.fixture
def debt():
    return make_debt()


@pytest.fixture
def phone(debt):
    return ContactPointFactory(customer=debt.customer)


def call(on, actor, **kwargs):
    kwargs.setdefault("party", "debtor")
    kwargs.setdefault("channel", "call")
    kwargs.setdefault("outcome", "right_party")
    kwargs.setdefault("started_at", MORNING)
    return log_contact(case=on.case, actor=actor, **kwargs)


def fresh_case(debt):
    return CollectionCase.objects.get(pk=debt.case_id)


def test_allowed_call_is_saved_and_updates_last_contact(debt, phone, collector):
    attempt = call(debt, collector, contact_point=phone, duration_s=95, note="will pay Friday")
    assert attempt.outcome == "right_party" and attempt.rules == []
    assert attempt.created_by == collector
    assert attempt.history.get().history_user == collector
    assert fresh_case(debt).last_contact_at == MORNING


def test_call_at_23_shanghai_is_refused_by_hours_and_stored(debt, phone, collector):
    with pytest.raises(ContactRefused) as excinfo:
        call(debt, collector, contact_point=phone, started_at=LATE)
    refused = excinfo.value
    assert refused.rules == ["hours"]
    assert refused.decision.next_allowed_at == datetime(2026, 2, 3, 8, 0, tzinfo=SHANGHAI)
    stored = ContactAttempt.objects.get()
    assert stored.outcome == "refused" and stored.rules == ["hours"] and stored.refusal_reason
    assert fresh_case(debt).last_contact_at is None


def test_do_not_contact_point_is_refused_by_contact_point(debt, collector):
    point = ContactPointFactory(customer=debt.customer, do_not_contact=True)
    with pytest.raises(ContactRefused) as excinfo:
        call(debt, collector, contact_point=point)
    assert excinfo.value.rules == ["contact_point"]
    assert ContactAttempt.objects.get().rules == ["contact_point"]


def test_revoked_consent_is_refused_by_contact_point(debt, collector):
    point = ContactPointFactory(customer=debt.customer, consent=False)
    with pytest.raises(ContactRefused) as excinfo:
        call(debt, collector, contact_point=point, channel="sms", outcome="no_answer")
    assert excinfo.value.rules == ["contact_point"]


def test_every_refusing_rule_is_reported(debt, collector):
    point = ContactPointFactory(customer=debt.customer, do_not_contact=True)
    place_hold(case=debt.case, hold="complaint", actor=collector, reason="complaint received")
    with pytest.raises(ContactRefused) as excinfo:
        call(debt, collector, contact_point=point, started_at=LATE)
    assert excinfo.value.rules == ["hold", "contact_point", "hours"]
    assert excinfo.value.decision.next_allowed_at is None


def test_callback_sets_the_cases_next_action(debt, phone, collector):
    call(
        debt,
        collector,
        contact_point=phone,
        outcome="callback",
        callback_at=datetime(2026, 2, 5, 15, 0, tzinfo=SHANGHAI),
    )
    assert fresh_case(debt).next_action_on == date(2026, 2, 5)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"duration_s": -1}, "duration_s"),
        ({"outcome": "refused"}, "outcome"),
        ({"channel": "pigeon"}, "channel"),
        ({"outcome": "callback"}, "callback_at"),
        ({"started_at": datetime(2026, 2, 2, 10, 0)}, "started_at"),
        ({"party": "third_party"}, "third_party"),
    ],
)
def test_bad_attempts_are_refused_and_nothing_is_saved(debt, phone, collector, kwargs, field):
    with pytest.raises(ValidationError) as excinfo:
        call(debt, collector, contact_point=phone, **kwargs)
    assert field in excinfo.value.message_dict
    assert ContactAttempt.objects.count() == 0 and ContactAttempt.history.count() == 0


def test_contact_point_of_another_customer_is_refused(debt, collector):
    stranger = ContactPointFactory(customer=CustomerFactory())
    with pytest.raises(ValidationError) as excinfo:
        call(debt, collector, contact_point=stranger)
    assert "contact_point" in excinfo.value.message_dict
    assert ContactAttempt.objects.count() == 0


def test_third_party_of_another_customer_is_refused(debt, collector):
    stranger = ThirdPartyContactFactory(customer=CustomerFactory())
    with pytest.raises(ValidationError) as excinfo:
        call(debt, collector, party="third_party", third_party=stranger, outcome="third_party")
    assert "third_party" in excinfo.value.message_dict


def test_check_contact_answers_without_writing(debt, phone, collector):
    decision = check_contact(
        case=debt.case, party="debtor", contact_point=phone, channel="call", at=LATE, actor=collector
    )
    assert not decision.allowed and decision.rules == ["hours"]
    assert check_contact(
        case=debt.case, party="debtor", contact_point=phone, channel="call", at=MORNING, actor=collector
    ).allowed
    assert ContactAttempt.objects.count() == 0


def test_inbound_call_is_logged_even_on_hold_and_late(debt, phone, collector):
    place_hold(case=debt.case, hold="cease", actor=collector, reason="cease letter received")
    attempt = call(debt, collector, contact_point=phone, direction="inbound", started_at=LATE)
    assert attempt.outcome == "right_party"
    assert fresh_case(debt).last_contact_at == LATE


def test_legal_hold_lets_only_legal_staff_call(debt, phone, collector):
    lawyer = UserFactory(username="lawyer", password=None)
    lawyer.groups.add(Group.objects.create(name="Legal"))
    place_hold(case=debt.case, hold="legal", actor=lawyer, reason="referred to legal")
    with pytest.raises(ContactRefused) as excinfo:
        call(debt, collector, contact_point=phone)
    assert excinfo.value.rules == ["hold"]
    assert call(debt, lawyer, contact_point=phone).outcome == "right_party"


def test_released_hold_allows_contact_again(debt, phone, collector):
    place_hold(case=debt.case, hold="complaint", actor=collector, reason="complaint received")
    release_hold(case=debt.case, hold="complaint", actor=collector, reason="complaint closed")
    assert call(debt, collector, contact_point=phone).outcome == "right_party"


def test_cn_third_party_is_refused_within_7_days_of_reaching_the_debtor(debt, phone, collector):
    relative = ThirdPartyContactFactory(customer=debt.customer)
    call(debt, collector, contact_point=phone)
    with pytest.raises(ContactRefused) as excinfo:
        call(
            debt,
            collector,
            party="third_party",
            third_party=relative,
            outcome="third_party",
            started_at=MORNING + timedelta(days=3),
        )
    assert excinfo.value.rules == ["third_party"]
    assert excinfo.value.decision.next_allowed_at == MORNING + timedelta(days=7)
    later = call(
        debt,
        collector,
        party="third_party",
        third_party=relative,
        outcome="third_party",
        started_at=MORNING + timedelta(days=8),
    )
    assert later.outcome == "third_party"


def test_unknown_time_zone_uses_the_zones_of_the_customers_phones(collector):
    customer = CustomerFactory(jurisdiction="US", time_zone=None)
    debt = make_debt(customer=customer, jurisdiction="US")
    los_angeles = ContactPointFactory(customer=customer, value="+14155550123")
    new_york = datetime(2026, 2, 2, 10, 0, tzinfo=ZoneInfo("America/New_York"))  # 07:00 in San Francisco
    with pytest.raises(ContactRefused) as excinfo:
        call(debt, collector, contact_point=los_angeles, started_at=new_york)
    assert excinfo.value.rules == ["hours"]
    assert excinfo.value.decision.next_allowed_at == datetime(
        2026, 2, 2, 8, 0, tzinfo=ZoneInfo("America/Los_Angeles")
    )
    assert call(debt, collector, contact_point=los_angeles, started_at=new_york + timedelta(hours=1))


@pytest.mark.django_db(transaction=True)
def test_refused_attempt_is_committed_although_the_caller_gets_an_error():
    debt = make_debt()
    collector = UserFactory(username="collector", password=None)
    phone = ContactPointFactory(customer=debt.customer)
    with pytest.raises(ContactRefused):
        call(debt, collector, contact_point=phone, started_at=LATE)
    # No test transaction wraps this test: the row is really committed.
    assert ContactAttempt.objects.filter(outcome="refused", rules=["hours"]).count() == 1
    assert ContactAttempt.history.filter(history_user=collector).count() == 1


# -- call caps through the service (RULES §4) -------------------------------------------------

NEW_YORK = ZoneInfo("America/New_York")


def test_fourth_answered_call_of_the_day_is_refused_and_stored_with_the_rule(debt, phone, collector):
    for hour in (9, 11, 14):
        call(debt, collector, contact_point=phone, started_at=MORNING.replace(hour=hour))
    with pytest.raises(ContactRefused) as excinfo:
        call(debt, collector, contact_point=phone, started_at=MORNING.replace(hour=16), outcome="no_answer")
    assert excinfo.value.rules == ["calls.answered"]
    assert excinfo.value.decision.next_allowed_at == datetime(2026, 2, 3, 8, 0, tzinfo=SHANGHAI)
    refused = ContactAttempt.objects.get(outcome="refused")
    assert refused.rules == ["calls.answered"] and "3 times" in refused.refusal_reason
    # The refused attempt did not use up anything: tomorrow starts afresh.
    assert call(debt, collector, contact_point=phone, started_at=MORNING + timedelta(days=1))


def test_check_contact_tells_the_collector_how_many_calls_are_left_today(debt, phone, collector):
    call(debt, collector, contact_point=phone)
    decision = check_contact(
        case=debt.case, party="debtor", contact_point=phone, channel="call", at=MORNING, actor=collector
    )
    assert decision.allowed and decision.calls_left_today == 2


@pytest.fixture
def us_debt():
    customer = CustomerFactory(jurisdiction="US", time_zone="America/New_York", preferred_language="en")
    return make_debt(customer=customer, jurisdiction="US")


def us_call_days(debt, collector, phone, first: date, count: int):
    for n in range(count):
        moment = datetime.combine(first + timedelta(days=n), datetime.min.time(), tzinfo=NEW_YORK)
        call(
            debt,
            collector,
            contact_point=phone,
            outcome="no_answer",
            started_at=moment.replace(hour=10),
            debt=debt,
        )


def test_us_eighth_call_attempt_in_seven_days_is_refused_and_the_next_day_allowed(us_debt, collector):
    phone = ContactPointFactory(customer=us_debt.customer, value="+12125550123")
    us_call_days(us_debt, collector, phone, date(2026, 3, 2), 7)  # 2–8 March, across the DST change
    eighth = datetime(2026, 3, 8, 20, 0, tzinfo=NEW_YORK)
    with pytest.raises(ContactRefused) as excinfo:
        call(us_debt, collector, contact_point=phone, outcome="no_answer", started_at=eighth, debt=us_debt)
    assert excinfo.value.rules == ["calls.attempts"]
    assert excinfo.value.decision.next_allowed_at == datetime(2026, 3, 9, 8, 0, tzinfo=NEW_YORK)
    assert ContactAttempt.objects.get(outcome="refused").rules == ["calls.attempts"]
    later = call(
        us_debt,
        collector,
        contact_point=phone,
        outcome="no_answer",
        started_at=datetime(2026, 3, 9, 8, 0, tzinfo=NEW_YORK),
        debt=us_debt,
    )
    assert later.rules == []


def test_us_first_party_advise_mode_allows_the_call_and_logs_the_advisory(collector):
    customer = CustomerFactory(jurisdiction="US", time_zone="America/New_York", preferred_language="en")
    debt = make_debt(
        customer=customer, jurisdiction="US", first_party=True, rule_modes={"calls.attempts": "advise"}
    )
    phone = ContactPointFactory(customer=customer, value="+12125550123")
    us_call_days(debt, collector, phone, date(2026, 2, 2), 7)
    eighth = call(
        debt,
        collector,
        contact_point=phone,
        outcome="no_answer",
        started_at=datetime(2026, 2, 8, 15, 0, tzinfo=NEW_YORK),
        debt=debt,
    )
    assert eighth.outcome == "no_answer"
    assert eighth.rules == ["calls.attempts"] and eighth.refusal_reason.startswith("Advisory, allowed:")


def test_us_conversation_blocks_calls_for_seven_days_through_the_service(us_debt, collector):
    phone = ContactPointFactory(customer=us_debt.customer, value="+12125550123")
    spoke = datetime(2026, 2, 2, 10, 0, tzinfo=NEW_YORK)
    call(us_debt, collector, contact_point=phone, started_at=spoke, debt=us_debt)
    notice = MessageTemplate.objects.create(
        code="validation-notice", channel="letter", language="en", body="…"
    )
    Message.objects.create(
        case=us_debt.case,
        debt=us_debt,
        channel="letter",
        template=notice,
        language="en",
        recipient="1 Main St",
        body="…",
        status="sent",
        sent_at=spoke + timedelta(days=1),
        idempotency_key="validation-notice:1",
    )
    with pytest.raises(ContactRefused) as excinfo:
        call(us_debt, collector, contact_point=phone, started_at=spoke + timedelta(days=6), debt=us_debt)
    assert excinfo.value.rules == ["calls.after_conversation"]
    assert excinfo.value.decision.next_allowed_at == datetime(2026, 2, 9, 8, 0, tzinfo=NEW_YORK)
