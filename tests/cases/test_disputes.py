"""Disputes: the dispute hold, resolution, and contact refused while open (RULES §3, §5)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from backoffice.errors import Conflict
from cases.models import CollectionCase, ContactAttempt, Dispute
from cases.services.contacts import ContactRefused, log_contact
from cases.services.disputes import overdue_disputes, raise_dispute, resolve_dispute
from cases.services.holds import place_hold, release_hold
from tests.factories import ContactPointFactory, CustomerFactory, UserFactory, make_debt

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def collector():
    return UserFactory(username="collector", password=None)


@pytest.fixture
def debt():
    return make_debt()


def dispute(debt, actor, opened_on=date(2026, 2, 1), **kwargs):
    return raise_dispute(
        case=debt.case,
        debt=debt,
        raised_via="phone",
        reason="Not my loan",
        opened_on=opened_on,
        actor=actor,
        **kwargs,
    )


def resolve(item, actor, **kwargs):
    kwargs.setdefault("outcome", "verified")
    kwargs.setdefault("resolved_on", date(2026, 2, 20))
    kwargs.setdefault("reason", "contract and ID checked")
    return resolve_dispute(dispute=item, actor=actor, **kwargs)


def test_raising_a_dispute_opens_it_and_puts_the_case_on_hold(debt, collector):
    item = dispute(debt, collector)
    assert item.status == Dispute.Status.OPEN
    assert item.due_on == date(2026, 3, 3)
    assert item.bureau_compliance_code == "XB"
    case = CollectionCase.objects.get(pk=debt.case_id)
    assert case.holds == ["dispute"]
    entry = case.history.first()
    assert entry.history_user == collector and entry.history_change_reason == "dispute raised via phone"


def test_outbound_call_on_a_disputed_case_is_refused_and_the_refusal_is_stored(debt, collector):
    dispute(debt, collector)
    point = ContactPointFactory(customer=debt.customer)
    with pytest.raises(ContactRefused) as excinfo:
        log_contact(
            case=debt.case,
            party="debtor",
            contact_point=point,
            channel="call",
            outcome="right_party",
            started_at=datetime(2026, 2, 2, 10, 0, tzinfo=SHANGHAI),
            actor=collector,
        )
    assert excinfo.value.rules == ["hold"]
    stored = ContactAttempt.objects.get()
    assert stored == excinfo.value.attempt
    assert stored.outcome == ContactAttempt.Outcome.REFUSED
    assert stored.rules == ["hold"] and "dispute" in stored.refusal_reason
    assert CollectionCase.objects.get(pk=debt.case_id).last_contact_at is None


def test_bad_dispute_is_refused_and_nothing_is_saved(debt, collector):
    other = make_debt(customer=CustomerFactory())
    with pytest.raises(ValidationError) as excinfo:
        raise_dispute(
            case=debt.case,
            debt=other,
            raised_via="pigeon",
            reason=" ",
            opened_on=date(2026, 2, 1),
            actor=collector,
        )
    assert set(excinfo.value.message_dict) == {"debt", "raised_via", "reason"}
    assert Dispute.objects.count() == 0 and Dispute.history.count() == 0
    assert CollectionCase.objects.get(pk=debt.case_id).holds == []


def test_resolving_the_only_dispute_releases_the_hold(debt, collector):
    item = resolve(dispute(debt, collector), collector)
    assert item.status == Dispute.Status.RESOLVED and item.outcome == "verified"
    assert item.resolution_note == "contract and ID checked"
    assert item.bureau_compliance_code == "XH"
    case = CollectionCase.objects.get(pk=debt.case_id)
    assert case.holds == []
    assert case.history.first().history_change_reason == "contract and ID checked"


def test_hold_stays_while_another_dispute_on_the_case_is_open(debt, collector):
    first = dispute(debt, collector)
    second = dispute(debt, collector, opened_on=date(2026, 2, 5))
    resolve(first, collector, consumer_disagrees=True)
    assert CollectionCase.objects.get(pk=debt.case_id).holds == ["dispute"]
    resolve(second, collector, outcome="withdrawn")
    assert CollectionCase.objects.get(pk=debt.case_id).holds == []


def test_resolution_needs_a_reason_and_a_known_outcome(debt, collector):
    item = dispute(debt, collector)
    with pytest.raises(ValidationError) as excinfo:
        resolve(item, collector, reason="")
    assert "reason" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        resolve(item, collector, outcome="shrug")
    assert "outcome" in excinfo.value.message_dict
    item.refresh_from_db()
    assert item.status == Dispute.Status.OPEN and item.history.count() == 1


def test_verified_us_dispute_needs_the_verification_mailing_date(collector):
    debt = make_debt(
        customer=CustomerFactory(jurisdiction="US", time_zone="America/New_York"), jurisdiction="US"
    )
    item = dispute(debt, collector)
    with pytest.raises(ValidationError) as excinfo:
        resolve(item, collector)
    assert "verification_sent_on" in excinfo.value.message_dict
    done = resolve(item, collector, verification_sent_on=date(2026, 2, 15))
    assert done.verification_sent_on == date(2026, 2, 15)


def test_resolving_twice_is_a_conflict(debt, collector):
    item = resolve(dispute(debt, collector), collector)
    with pytest.raises(Conflict):
        resolve(item, collector)


def test_overdue_disputes_are_open_ones_past_their_due_date(debt, collector):
    late = dispute(debt, collector, opened_on=date(2026, 1, 1))
    dispute(debt, collector, opened_on=date(2026, 2, 1))
    resolve(dispute(debt, collector, opened_on=date(2026, 1, 2)), collector)
    assert list(overdue_disputes(date(2026, 2, 1))) == [late]
    assert list(overdue_disputes(date(2026, 1, 31))) == []


def test_placing_a_hold_twice_or_releasing_one_not_placed_is_a_conflict(debt, collector):
    place_hold(case=debt.case, hold="bankruptcy", actor=collector, reason="bankruptcy notice")
    with pytest.raises(Conflict):
        place_hold(case=debt.case, hold="bankruptcy", actor=collector, reason="again")
    with pytest.raises(Conflict):
        release_hold(case=debt.case, hold="deceased", actor=collector, reason="not on it")
    case = CollectionCase.objects.get(pk=debt.case_id)
    assert case.holds == ["bankruptcy"]
    assert case.history.first().history_change_reason == "bankruptcy notice"


@pytest.mark.parametrize(("hold", "reason", "field"), [("nap", "why not", "hold"), ("cease", "", "reason")])
def test_bad_hold_is_refused_and_nothing_is_saved(debt, collector, hold, reason, field):
    rows = CollectionCase.history.count()
    with pytest.raises(ValidationError) as excinfo:
        place_hold(case=debt.case, hold=hold, actor=collector, reason=reason)
    assert field in excinfo.value.message_dict
    assert CollectionCase.objects.get(pk=debt.case_id).holds == []
    assert CollectionCase.history.count() == rows
