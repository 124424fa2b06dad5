"""Payments are posted and reversed in the admin through the services."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.urls import reverse

from cases.models import LedgerEntry, Payment
from cases.services import post_payment
from tests.factories import UserFactory, make_debt, sees_all_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def debt():
    return make_debt(opened_on=date(2026, 1, 1))


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _form(debt, **overrides):
    return {
        "debt": str(debt.pk),
        "amount": "250.00",
        "received_on": "2026-01-20",
        "channel": "alipay",
        "reference": "ADMIN-PAY-1",
        **overrides,
    }


def test_add_form_posts_payment_to_the_ledger(admin_client, admin_user, debt):
    response = admin_client.post(reverse("admin:cases_payment_add"), _form(debt))
    payment = Payment.objects.get(reference="ADMIN-PAY-1")
    assert response.status_code == 302
    assert response.url == reverse("admin:cases_payment_change", args=[payment.pk])
    assert payment.amount == Decimal("250.00")
    assert payment.created_by == admin_user
    entries = LedgerEntry.objects.filter(payment=payment, kind=LedgerEntry.Kind.PAYMENT)
    assert sum(e.amount for e in entries) == Decimal("-250.00")
    debt.refresh_from_db()
    assert debt.principal_balance == Decimal("2750.00")
    assert payment.history.first().history_user == admin_user


def test_add_form_shows_service_refusal_and_writes_nothing(admin_client, debt):
    response = admin_client.post(reverse("admin:cases_payment_add"), _form(debt, amount="99999.00"))
    assert response.status_code == 200
    assert "Overpayment" in response.content.decode()
    assert not Payment.objects.exists()


def test_add_form_is_refused_without_add_permission(client, debt):
    user = sees_all_rows(UserFactory())
    user.user_permissions.set(Permission.objects.filter(codename="view_payment"))
    client.force_login(user)
    assert client.get(reverse("admin:cases_payment_add")).status_code == 403
    assert client.post(reverse("admin:cases_payment_add"), _form(debt)).status_code == 403
    assert not Payment.objects.exists()


def test_collector_with_add_permission_may_post(client, debt):
    user = sees_all_rows(UserFactory())
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_payment", "add_payment", "view_debt"])
    )
    client.force_login(user)
    response = client.post(reverse("admin:cases_payment_add"), _form(debt))
    assert response.status_code == 302
    assert Payment.objects.filter(reference="ADMIN-PAY-1").exists()


def test_payment_change_form_is_read_only(admin_client, debt):
    payment = post_payment(debt=debt, amount="100", received_on=date(2026, 1, 20), reference="RO-1").payment
    url = reverse("admin:cases_payment_change", args=[payment.pk])
    admin_client.post(url, {"amount": "1.00", "reference": "HACK"})
    payment.refresh_from_db()
    assert payment.reference == "RO-1"
    assert (
        admin_client.post(
            reverse("admin:cases_payment_delete", args=[payment.pk]), {"post": "yes"}
        ).status_code
        == 403
    )


def test_reverse_action_asks_for_reason_and_date_first(admin_client, debt):
    payment = post_payment(debt=debt, amount="100", received_on=date(2026, 1, 20), reference="REV-1").payment
    response = admin_client.post(
        reverse("admin:cases_payment_changelist"),
        {"action": "reverse_selected", ACTION_CHECKBOX_NAME: [payment.pk]},
    )
    assert response.status_code == 200
    assert "reason" in response.context["form"].fields
    payment.refresh_from_db()
    assert payment.status == Payment.Status.POSTED


def test_reverse_action_reverses_through_the_service(admin_client, admin_user, debt):
    payment = post_payment(debt=debt, amount="100", received_on=date(2026, 1, 20), reference="REV-2").payment
    response = admin_client.post(
        reverse("admin:cases_payment_changelist"),
        {
            "action": "reverse_selected",
            ACTION_CHECKBOX_NAME: [payment.pk],
            "apply": "1",
            "reason": "returned transfer",
            "reversed_on": "2026-01-25",
        },
    )
    assert response.status_code == 302
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REVERSED
    assert payment.reversal_reason == "returned transfer"
    assert payment.reversed_on == date(2026, 1, 25)
    reversal = LedgerEntry.objects.filter(payment=payment, kind=LedgerEntry.Kind.REVERSAL)
    assert sum(e.amount for e in reversal) == Decimal("100.00")
    debt.refresh_from_db()
    assert debt.principal_balance == Decimal("3000.00")
    assert payment.history.first().history_user == admin_user


def test_reverse_action_reports_already_reversed_payment(admin_client, debt):
    payment = post_payment(debt=debt, amount="100", received_on=date(2026, 1, 20), reference="REV-3").payment
    data = {
        "action": "reverse_selected",
        ACTION_CHECKBOX_NAME: [payment.pk],
        "apply": "1",
        "reason": "returned",
        "reversed_on": "2026-01-25",
    }
    admin_client.post(reverse("admin:cases_payment_changelist"), data)
    response = admin_client.post(reverse("admin:cases_payment_changelist"), data, follow=True)
    assert "already reversed" in response.content.decode()
    assert LedgerEntry.objects.filter(payment=payment, kind=LedgerEntry.Kind.REVERSAL).count() == 1


def test_reverse_action_needs_change_permission(client, debt):
    payment = post_payment(debt=debt, amount="100", received_on=date(2026, 1, 20), reference="REV-4").payment
    user = sees_all_rows(UserFactory())
    user.user_permissions.set(Permission.objects.filter(codename__in=["view_payment", "add_payment"]))
    client.force_login(user)
    response = client.get(reverse("admin:cases_payment_changelist"))
    assert "reverse_selected" not in response.content.decode()
    client.post(
        reverse("admin:cases_payment_changelist"),
        {
            "action": "reverse_selected",
            ACTION_CHECKBOX_NAME: [payment.pk],
            "apply": "1",
            "reason": "x",
            "reversed_on": "2026-01-25",
        },
    )
    payment.refresh_from_db()
    assert payment.status == Payment.Status.POSTED
