"""The small-balance digital-only track (docs/small-balances.md): below the
policy's ``digital_only_below`` a case is worked by SMS, email and letters
only; calls and visits are refused with ``LL-DIGITAL-ONLY``."""

import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from cases.compliance.engine import decide
from cases.compliance.facts import is_digital_only
from cases.compliance.rules import ContactRequest
from cases.models import CollectionCase, ContactAttempt, Message, MessageTemplate
from cases.selectors.work import my_queue
from cases.services.contacts import ContactRefused, check_contact, log_contact
from cases.services.messages import queue_message
from tests.api.conftest import client_for
from tests.factories import ContactPointFactory, ProductFactory, UserFactory, make_debt

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
MORNING = datetime(2026, 2, 2, 10, 0, tzinfo=SHANGHAI)
RULE = "LL-DIGITAL-ONLY"
THRESHOLD = Decimal("500.00")


@pytest.fixture(autouse=True)
def roles(db):
    call_command("setup_roles", stdout=io.StringIO())


@pytest.fixture
def collector():
    user = UserFactory(username="collector")
    user.groups.add(Group.objects.get(name="Collector"))
    return user


@pytest.fixture
def product():
    return ProductFactory(policy__digital_only_below=THRESHOLD)


def owing(amount: str, *, product, collector=None, customer=None, opened_on=date(2026, 1, 1)):
    """A debt of one instalment of ``amount`` principal, assigned to ``collector``."""
    debt = make_debt(
        product=product,
        customer=customer,
        opened_on=opened_on,
        instalments=[{"due_on": date(2026, 1, 15), "principal": Decimal(amount), "interest": Decimal("0")}],
    )
    if collector is not None:
        CollectionCase.objects.filter(pk=debt.case_id).update(assigned_to=collector)
    debt.refresh_from_db()
    return debt


def call(debt, actor, phone, **kwargs):
    return log_contact(
        case=debt.case,
        party="debtor",
        channel=kwargs.pop("channel", "call"),
        outcome="right_party",
        started_at=MORNING,
        actor=actor,
        contact_point=phone,
        **kwargs,
    )


# --- the rule -----------------------------------------------------------------------


def test_a_call_on_a_small_balance_is_refused_with_our_rule_and_stored(product, collector):
    debt = owing("499.99", product=product, collector=collector)
    phone = ContactPointFactory(customer=debt.customer)
    with pytest.raises(ContactRefused) as excinfo:
        call(debt, collector, phone)
    assert excinfo.value.rules == [RULE]
    stored = ContactAttempt.objects.get()
    assert stored.outcome == ContactAttempt.Outcome.REFUSED
    assert stored.rules == [RULE]
    assert "digital-only" in stored.refusal_reason


def test_a_visit_is_refused_too(product, collector):
    debt = owing("100.00", product=product, collector=collector)
    address = ContactPointFactory(customer=debt.customer, kind="address", value="1 Road, Shanghai")
    decision = check_contact(
        case=debt.case, party="debtor", channel="visit", at=MORNING, actor=collector, contact_point=address
    )
    assert not decision.allowed and decision.rules == [RULE] and decision.next_allowed_at is None


def test_a_balance_at_the_threshold_is_called_as_usual(product, collector):
    debt = owing("500.00", product=product, collector=collector)
    phone = ContactPointFactory(customer=debt.customer)
    attempt = call(debt, collector, phone)
    assert attempt.outcome == "right_party" and attempt.rules == []


def test_no_threshold_means_no_digital_only_track(collector):
    debt = owing("10.00", product=ProductFactory(), collector=collector)
    phone = ContactPointFactory(customer=debt.customer)
    assert call(debt, collector, phone).outcome == "right_party"


def test_a_large_debt_beside_a_small_one_keeps_the_case_callable(product, collector):
    small = owing("50.00", product=product, collector=collector)
    owing("2500.00", product=product, customer=small.customer)
    phone = ContactPointFactory(customer=small.customer)
    assert CollectionCase.objects.count() == 1
    assert call(small, collector, phone).rules == []


def test_sms_still_goes_on_a_small_balance(product, collector):
    debt = owing("120.00", product=product, collector=collector)
    ContactPointFactory(customer=debt.customer)
    MessageTemplate.objects.create(
        code="reminder",
        channel="sms",
        language="zh-hans",
        body="{{ account_number }} {{ balance }} {{ opt_out }}",
    )
    message = queue_message(
        case=debt.case,
        debt=debt,
        channel="sms",
        template_code="reminder",
        actor=collector,
        at=MORNING,
        idempotency_key="small-sms-1",
        now=MORNING,
    )
    assert message.status == Message.Status.QUEUED and message.rules == []
    assert "120.00" in message.body


def test_inbound_calls_are_never_refused(product, collector):
    debt = owing("120.00", product=product, collector=collector)
    phone = ContactPointFactory(customer=debt.customer)
    attempt = call(debt, collector, phone, direction="inbound")
    assert attempt.outcome == "right_party"


def test_the_rule_is_enforced_even_where_us_rules_are_advised():
    request = ContactRequest(
        at=MORNING,
        channel="call",
        jurisdiction="US",
        time_zones=("America/New_York",),
        contact_hours_start=0,
        contact_hours_end=24,
        first_party=True,
        rule_modes={RULE: "advise"},
        digital_only=True,
    )
    decision = decide(request)
    assert not decision.allowed and decision.rules == [RULE] and decision.advisories == []


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([("open", "99.99", "100.00")], True),
        ([("open", "100.00", "100.00")], False),
        ([("open", "99.99", None)], False),
        ([("open", "10.00", "100.00"), ("open", "150.00", "100.00")], False),
        ([("open", "10.00", "100.00"), ("paid", "0.00", "100.00")], True),
        ([("paid", "0.00", "100.00")], False),
        ([("settled", "50.00", "100.00")], False),
    ],
)
def test_is_digital_only_needs_every_owing_open_debt_below_its_threshold(rows, expected):
    facts = [
        {
            "status": status,
            "principal_balance": Decimal(balance),
            "interest_balance": Decimal("0"),
            "penalty_balance": Decimal("0"),
            "fees_balance": Decimal("0"),
            "legal_cost_balance": Decimal("0"),
            "credit_balance": Decimal("0"),
            "product__policy__digital_only_below": None if below is None else Decimal(below),
        }
        for status, balance, below in rows
    ]
    assert is_digital_only(facts) is expected


# --- API: 409 with the rule, and the policy field -------------------------------------------


def test_api_answers_409_with_our_rule_and_stores_the_refusal(product, collector):
    debt = owing("80.00", product=product, collector=collector)
    phone = ContactPointFactory(customer=debt.customer)
    response = client_for(collector).post(
        "/api/v1/contacts/",
        {
            "case": debt.case_id,
            "party": "debtor",
            "contact_point": phone.pk,
            "channel": "call",
            "started_at": MORNING.isoformat(),
            "outcome": "right_party",
        },
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["rules"] == [RULE]
    assert ContactAttempt.objects.get().rules == [RULE]


def test_api_check_reports_our_rule_without_logging(product, collector):
    debt = owing("80.00", product=product, collector=collector)
    phone = ContactPointFactory(customer=debt.customer)
    response = client_for(collector).post(
        "/api/v1/contacts/check/",
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
    assert response.json()["allowed"] is False and response.json()["rules"] == [RULE]
    assert not ContactAttempt.objects.exists()


def test_policies_api_reads_and_writes_the_threshold(product):
    admin = UserFactory(username="admin-user")
    admin.groups.add(Group.objects.get(name="Administrator"))
    api = client_for(admin)
    url = f"/api/v1/policies/{product.policy_id}/"
    assert api.get(url).json()["digital_only_below"] == "500.00"
    response = api.patch(url, {"digital_only_below": "250.50"}, format="json")
    assert response.status_code == 200, response.content
    product.policy.refresh_from_db()
    assert product.policy.digital_only_below == Decimal("250.50")
    assert api.patch(url, {"digital_only_below": None}, format="json").json()["digital_only_below"] is None


def test_a_collector_cannot_change_the_threshold(product, collector):
    response = client_for(collector).patch(
        f"/api/v1/policies/{product.policy_id}/", {"digital_only_below": "1.00"}, format="json"
    )
    assert response.status_code == 403
    product.policy.refresh_from_db()
    assert product.policy.digital_only_below == THRESHOLD


# --- the collector's screens --------------------------------------------------------------


def test_my_queue_puts_digital_only_cases_last_and_flags_them(product, collector):
    small = owing("99.00", product=product, collector=collector)
    large = owing("3000.00", product=product, collector=collector)
    CollectionCase.objects.filter(pk=small.case_id).update(priority=Decimal("90"))
    CollectionCase.objects.filter(pk=large.case_id).update(priority=Decimal("10"))
    queue = list(my_queue(collector, today=date(2026, 2, 2)))
    assert [c.pk for c in queue] == [large.case_id, small.case_id]
    assert [c.digital_only for c in queue] == [False, True]


def test_my_queue_screen_shows_the_flag(client, product, collector):
    owing("99.00", product=product, collector=collector)
    client.force_login(collector)
    response = client.get(reverse("admin:cases_collectioncase_my_queue"))
    assert response.status_code == 200
    assert "flag digital-only" in response.content.decode()


def test_the_check_before_dialling_box_shows_the_rule(client, product, collector):
    debt = owing("99.00", product=product, collector=collector)
    ContactPointFactory(customer=debt.customer)
    client.force_login(collector)
    response = client.get(reverse("admin:cases_collectioncase_work", args=[debt.case_id]))
    assert response.status_code == 200
    assert RULE in response.content.decode()
