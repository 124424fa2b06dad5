"""My queue: the collector's open cases in working order, in a fixed number of queries."""

import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import CollectionCase, ContactAttempt, PromiseToPay
from tests.factories import CustomerFactory, UserFactory, make_debt

pytestmark = pytest.mark.django_db

TODAY = date(2026, 2, 10)
QUEUE_URL = "admin:cases_collectioncase_my_queue"


@pytest.fixture(autouse=True)
def fast_hashers(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def roles(db):
    call_command("setup_roles", stdout=io.StringIO())


@pytest.fixture(autouse=True)
def on_today():
    with time_machine.travel(datetime(2026, 2, 10, 11, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield


def member(role: str, **fields):
    user = UserFactory(**fields)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def collector():
    return member("Collector", username="ann")


def my_case(user, *, name=None, priority="0", **fields):
    customer = CustomerFactory(**({"name": name} if name else {}))
    debt = make_debt(customer=customer)
    CollectionCase.objects.filter(pk=debt.case_id).update(
        assigned_to=user, priority=Decimal(priority), **fields
    )
    return CollectionCase.objects.get(pk=debt.case_id)


def queue(client, user):
    client.force_login(user)
    return client.get(reverse(QUEUE_URL))


def test_queue_puts_promises_due_today_then_callbacks_then_priority(client, collector):
    rich = my_case(collector, name="Rich", priority="9000")
    promised = my_case(collector, name="Promised", priority="10")
    callback = my_case(collector, name="Callback", priority="20")
    middle = my_case(collector, name="Middle", priority="500")
    PromiseToPay.objects.create(case=promised, amount=Decimal("100.00"), due_on=TODAY)
    ContactAttempt.objects.create(
        case=callback,
        channel="call",
        outcome="callback",
        started_at=datetime(2026, 2, 9, 10, tzinfo=ZoneInfo("Asia/Shanghai")),
        callback_at=datetime(2026, 2, 10, 15, tzinfo=ZoneInfo("Asia/Shanghai")),
    )
    response = queue(client, collector)
    assert response.status_code == 200
    assert [row["case"] for row in response.context["rows"]] == [promised, callback, rich, middle]
    html = response.content.decode()
    assert html.index("Promised") < html.index("Callback") < html.index("Rich") < html.index("Middle")
    assert "promise due today" in html and "callback due" in html


def test_queue_shows_balance_dpd_bucket_reasons_and_next_action(client, collector):
    case = my_case(collector, name="Li Lei", priority="120", next_action_on=date(2026, 2, 12))
    CollectionCase.objects.filter(pk=case.pk).update(priority_reasons=["broken promise on 2026-02-01"])
    row = queue(client, collector).context["rows"][0]
    assert row["case"].total_balance == case.debts.get().total_balance
    assert row["bucket"] == "current"
    html = client.get(reverse(QUEUE_URL)).content.decode()
    assert "broken promise on 2026-02-01" in html
    assert "2026-02-12" in html


def test_queue_rows_link_to_the_case_page(client, collector):
    case = my_case(collector)
    html = queue(client, collector).content.decode()
    assert reverse("admin:cases_collectioncase_work", args=[case.pk]) in html


def test_queue_holds_only_my_open_cases(client, collector):
    mine = my_case(collector)
    my_case(collector, stage=CollectionCase.Stage.CLOSED)
    my_case(member("Collector", username="bob"))
    my_case(None)
    assert [row["case"] for row in queue(client, collector).context["rows"]] == [mine]


def test_changelist_and_app_index_link_to_my_queue(client, collector):
    client.force_login(collector)
    url = reverse(QUEUE_URL)
    assert url in client.get(reverse("admin:cases_collectioncase_changelist")).content.decode()
    assert url in client.get(reverse("admin:app_list", args=["cases"])).content.decode()


def _queries(client, collector) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse(QUEUE_URL))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_queue_queries_are_the_same_for_3_and_10_cases(client, collector, django_assert_max_num_queries):
    for n in range(3):
        case = my_case(collector, priority=str(n))
        PromiseToPay.objects.create(case=case, amount=Decimal("10.00"), due_on=TODAY)
    client.force_login(collector)
    with django_assert_max_num_queries(12):
        few = _queries(client, collector)
    for n in range(7):
        case = my_case(collector, priority=str(n))
        PromiseToPay.objects.create(case=case, amount=Decimal("10.00"), due_on=TODAY)
    with django_assert_max_num_queries(12):
        many = _queries(client, collector)
    assert many == few
    assert len(client.get(reverse(QUEUE_URL)).context["rows"]) == 10
