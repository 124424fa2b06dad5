"""``payments/``: posting idempotently, refusals that write nothing, reversal."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from cases.models import Debt, LedgerEntry, Payment
from cases.services import post_payment
from tests.api.conftest import client_for, grant
from tests.factories import UserFactory, make_debt

pytestmark = pytest.mark.django_db

URL = "/api/v1/payments/"


@pytest.fixture
def debt(db):
    """3000.00 principal in three instalments from 2026-01-31; nothing due yet on 2026-01-15."""
    return make_debt()


def payment_body(debt, /, **overrides) -> dict:
    body = {
        "debt": debt.pk,
        "amount": "500.00",
        "currency": "CNY",
        "received_on": "2026-01-15",
        "channel": "alipay",
        "reference": "ALI-0001",
    }
    body.update(overrides)
    return body


def money_state(debt) -> tuple:
    debt = Debt.objects.get(pk=debt.pk)
    return (
        Payment.objects.count(),
        LedgerEntry.objects.count(),
        tuple(debt.balances().items()),
        debt.status,
        debt.last_payment_on,
        debt.closed_through,
    )


def test_first_posting_answers_201_with_the_allocation(clerk_api, debt):
    response = clerk_api.post(URL, payment_body(debt), format="json")

    assert response.status_code == 201
    body = response.json()
    payment = Payment.objects.get(pk=body["id"])
    assert body["allocation"] == {"principal": "500.00"}
    assert body["amount"] == "500.00"
    assert body["status"] == "posted"
    assert body["received_on"] == "2026-01-15"
    assert payment.channel == "alipay"
    debt.refresh_from_db()
    assert debt.principal_balance == Decimal("2500.00")
    assert debt.last_payment_on == date(2026, 1, 15)


def test_posting_records_the_acting_user(clerk_api, clerk, debt):
    clerk_api.post(URL, payment_body(debt), format="json")

    payment = Payment.objects.get()
    assert payment.created_by == clerk
    assert {e.created_by for e in payment.ledger_entries.all()} == {clerk}


def test_currency_may_be_left_out(clerk_api, debt):
    body = payment_body(debt)
    del body["currency"]

    response = clerk_api.post(URL, body, format="json")

    assert response.status_code == 201
    assert response.json()["currency"] == "CNY"


def test_second_posting_with_the_same_reference_returns_the_first_payment(clerk_api, debt):
    first = clerk_api.post(URL, payment_body(debt), format="json")
    state = money_state(debt)

    second = clerk_api.post(URL, payment_body(debt), format="json")

    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["allocation"] == first.json()["allocation"]
    assert money_state(debt) == state
    assert Payment.objects.count() == 1


def test_second_posting_with_the_same_idempotency_key_returns_the_first_payment(clerk_api, debt):
    first = clerk_api.post(URL, payment_body(debt), format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    state = money_state(debt)

    second = clerk_api.post(URL, payment_body(debt), format="json", HTTP_IDEMPOTENCY_KEY="key-1")

    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert Payment.objects.get().idempotency_key == "key-1"
    assert money_state(debt) == state
    assert LedgerEntry.objects.filter(kind="payment").count() == 1


def test_reusing_an_idempotency_key_for_another_payment_is_a_conflict(clerk_api, debt):
    clerk_api.post(URL, payment_body(debt), format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    state = money_state(debt)

    response = clerk_api.post(
        URL, payment_body(debt, reference="ALI-0002"), format="json", HTTP_IDEMPOTENCY_KEY="key-1"
    )

    assert response.status_code == 409
    assert "reference" in response.json()
    assert money_state(debt) == state


def test_reusing_a_reference_with_another_amount_is_a_conflict(clerk_api, debt):
    clerk_api.post(URL, payment_body(debt), format="json")
    state = money_state(debt)

    response = clerk_api.post(URL, payment_body(debt, amount="600.00"), format="json")

    assert response.status_code == 409
    assert money_state(debt) == state


def test_an_overlong_idempotency_key_is_refused(clerk_api, debt):
    state = money_state(debt)

    response = clerk_api.post(URL, payment_body(debt), format="json", HTTP_IDEMPOTENCY_KEY="k" * 201)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert money_state(debt) == state


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"debt": 999999}, "debt"),
        ({"amount": "0.00"}, "amount"),
        ({"amount": "-10.00"}, "amount"),
        ({"amount": "ten"}, "amount"),
        ({"amount": "10.001"}, "amount"),
        ({"currency": "USD"}, "currency"),
        ({"amount": "3500.00"}, "amount"),
        ({"received_on": "2025-12-31"}, "received_on"),
        ({"received_on": "2999-01-01"}, "received_on"),
        ({"channel": "barter"}, "channel"),
        ({"reference": ""}, "reference"),
    ],
)
def test_bad_payment_is_refused_per_field_and_writes_nothing(clerk_api, debt, overrides, field):
    state = money_state(debt)

    response = clerk_api.post(URL, payment_body(debt, **overrides), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert money_state(debt) == state


def test_unknown_debt_is_reported_as_unknown(clerk_api):
    response = clerk_api.post(URL, {**payment_body(make_debt()), "debt": 999999}, format="json")

    assert response.json()["debt"] == ["Unknown debt."]


def test_overpayment_says_how_much_is_owed(clerk_api, debt):
    response = clerk_api.post(URL, payment_body(debt, amount="3500.00"), format="json")

    assert "owes 3000.00" in response.json()["amount"][0]


def test_refused_payment_in_a_gap_leaves_no_catch_up_accruals_behind(clerk_api, debt):
    # Posting in a gap closes the days before it first; a refusal undoes that too.
    state = money_state(debt)

    response = clerk_api.post(
        URL, payment_body(debt, received_on="2026-03-20", currency="USD"), format="json"
    )

    assert response.status_code == 400
    assert money_state(debt) == state


def test_payment_to_a_debt_the_user_cannot_see_is_refused(debt):
    poster = grant(UserFactory(), "cases.add_payment")
    state = money_state(debt)

    response = client_for(poster).post(URL, payment_body(debt), format="json")

    assert response.status_code == 400
    assert response.json() == {"debt": ["Unknown debt."]}
    assert money_state(debt) == state


def test_staff_without_add_permission_cannot_post_a_payment(outsider_api, debt):
    state = money_state(debt)

    response = outsider_api.post(URL, payment_body(debt), format="json")

    assert response.status_code == 403
    assert money_state(debt) == state


def test_payments_are_listed_and_readable(clerk_api, debt):
    result = post_payment(debt=debt, amount="100.00", received_on=date(2026, 1, 10), reference="R-1")

    listed = clerk_api.get(URL).json()["results"]
    detail = clerk_api.get(f"{URL}{result.payment.pk}/").json()

    assert [p["id"] for p in listed] == [result.payment.pk]
    assert detail["reference"] == "R-1"
    assert detail["allocation"] == {"principal": "100.00"}


def test_payments_can_be_filtered_by_debt(clerk_api, debt):
    other = make_debt()
    wanted = post_payment(debt=debt, amount="100.00", received_on=date(2026, 1, 10), reference="R-1")
    post_payment(debt=other, amount="100.00", received_on=date(2026, 1, 10), reference="R-2")

    results = clerk_api.get(URL, {"debt": debt.pk}).json()["results"]

    assert [p["id"] for p in results] == [wanted.payment.pk]


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_payments_cannot_be_changed_or_deleted_directly(clerk_api, debt, method):
    payment = post_payment(debt=debt, amount="100.00", received_on=date(2026, 1, 10), reference="R-1").payment

    response = getattr(clerk_api, method)(f"{URL}{payment.pk}/", {"amount": "1.00"}, format="json")

    assert response.status_code == 405
    payment.refresh_from_db()
    assert payment.amount == Decimal("100.00")


def test_staff_without_view_permission_sees_no_payments(outsider_api, debt):
    payment = post_payment(debt=debt, amount="100.00", received_on=date(2026, 1, 10), reference="R-1").payment

    assert outsider_api.get(URL).json()["results"] == []
    assert outsider_api.get(f"{URL}{payment.pk}/").status_code == 404


def test_payment_list_runs_a_constant_number_of_queries(api, django_assert_max_num_queries):
    for n in range(5):
        post_payment(debt=make_debt(), amount="100.00", received_on=date(2026, 1, 10), reference=f"R-{n}")

    with django_assert_max_num_queries(2):
        response = api.get(URL)

    assert response.json()["count"] == 5


# -- reversal ---------------------------------------------------------------------


@pytest.fixture
def payment(debt):
    return post_payment(debt=debt, amount="500.00", received_on=date(2026, 1, 15), reference="REV-1").payment


def test_reversing_a_payment_restores_the_balance(clerk_api, payment):
    response = clerk_api.post(
        f"{URL}{payment.pk}/reverse/",
        {"reason": "returned transfer", "reversed_on": "2026-01-20"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "reversed"
    assert body["reversed_on"] == "2026-01-20"
    assert body["reversal_reason"] == "returned transfer"
    debt = Debt.objects.get(pk=payment.debt_id)
    assert debt.principal_balance == Decimal("3000.00")
    reversal = LedgerEntry.objects.get(kind="reversal")
    assert (reversal.component, reversal.amount, reversal.effective_on) == (
        "principal",
        Decimal("500.00"),
        date(2026, 1, 20),
    )


def test_reversal_is_dated_today_when_no_date_is_given(clerk_api, payment):
    response = clerk_api.post(f"{URL}{payment.pk}/reverse/", {"reason": "bounced"}, format="json")

    assert response.status_code == 200
    assert response.json()["reversed_on"] == timezone.localdate().isoformat()


def test_reversal_without_a_reason_is_refused_and_changes_nothing(clerk_api, payment):
    state = money_state(payment.debt)

    response = clerk_api.post(f"{URL}{payment.pk}/reverse/", {"reversed_on": "2026-01-20"}, format="json")

    assert response.status_code == 400
    assert "reason" in response.json()
    assert money_state(payment.debt) == state
    payment.refresh_from_db()
    assert payment.status == "posted"


def test_reversal_dated_before_the_payment_is_refused_and_changes_nothing(clerk_api, payment):
    state = money_state(payment.debt)

    response = clerk_api.post(
        f"{URL}{payment.pk}/reverse/", {"reason": "oops", "reversed_on": "2026-01-10"}, format="json"
    )

    assert response.status_code == 400
    assert "reversed_on" in response.json()
    assert money_state(payment.debt) == state


def test_reversing_a_reversed_payment_is_a_conflict(clerk_api, payment):
    clerk_api.post(
        f"{URL}{payment.pk}/reverse/", {"reason": "bounced", "reversed_on": "2026-01-20"}, format="json"
    )
    state = money_state(payment.debt)

    response = clerk_api.post(
        f"{URL}{payment.pk}/reverse/", {"reason": "again", "reversed_on": "2026-01-21"}, format="json"
    )

    assert response.status_code == 409
    assert money_state(payment.debt) == state


def test_reversing_an_unknown_payment_is_not_found(clerk_api):
    assert clerk_api.post(f"{URL}999999/reverse/", {"reason": "x"}, format="json").status_code == 404


def test_reversing_without_change_permission_is_refused(payment):
    viewer = grant(UserFactory(), "cases.view_payment", "cases.view_debt", "cases.add_payment")
    state = money_state(payment.debt)

    response = client_for(viewer).post(f"{URL}{payment.pk}/reverse/", {"reason": "x"}, format="json")

    assert response.status_code == 403
    assert money_state(payment.debt) == state


def test_reversing_a_payment_on_a_debt_the_user_cannot_see_is_not_found(payment):
    reverser = grant(UserFactory(), "cases.view_payment", "cases.change_payment")
    state = money_state(payment.debt)

    response = client_for(reverser).post(f"{URL}{payment.pk}/reverse/", {"reason": "x"}, format="json")

    assert response.status_code == 404
    assert money_state(payment.debt) == state
