"""Placing an account: a debt, its schedule, its principal on the ledger, and
its customer's open case (DESIGN.md contracts: ``POST debts/``)."""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from backoffice.audit import record
from backoffice.money import ZERO, to_money
from cases.models import CollectionCase, Creditor, Debt, Instalment, LedgerEntry, Product
from cases.services.ledger import EntrySpec, apply_entries
from cases.services.limitation import add_years
from customers.models import Customer


def _parse_schedule(instalments, opened_on: date) -> list[dict]:
    if not instalments:
        raise ValidationError({"instalments": "An account needs at least one instalment."})
    parsed = []
    errors = []
    for n, line in enumerate(instalments, start=1):
        try:
            due_on = line["due_on"]
            if isinstance(due_on, str):
                due_on = date.fromisoformat(due_on)
            principal = to_money(line["principal"])
            interest = to_money(line.get("interest") or "0")
        except (KeyError, TypeError, ValueError, InvalidOperation):
            errors.append(f"Instalment {n}: needs due_on, principal and interest.")
            continue
        if principal < 0 or interest < 0:
            errors.append(f"Instalment {n}: amounts cannot be negative.")
        if due_on <= opened_on:
            errors.append(f"Instalment {n}: due date must be after the opening date.")
        parsed.append({"due_on": due_on, "principal": principal, "interest": interest})
    if errors:
        raise ValidationError({"instalments": errors})
    due_dates = [p["due_on"] for p in parsed]
    if due_dates != sorted(due_dates) or len(set(due_dates)) != len(due_dates):
        raise ValidationError({"instalments": "Due dates must be distinct and in order."})
    if sum((p["principal"] for p in parsed), ZERO) <= 0:
        raise ValidationError({"instalments": "The schedule owes no principal."})
    return parsed


def open_case_for(*, customer: Customer, opened_on: date, actor, reason: str) -> CollectionCase:
    """The customer's open case, or a new one (locked, so two placements for
    one customer join the same case)."""
    Customer.objects.select_for_update().filter(pk=customer.pk).first()
    case = (
        CollectionCase.objects.filter(customer=customer)
        .exclude(stage=CollectionCase.Stage.CLOSED)
        .order_by("id")
        .first()
    )
    if case is None:
        case = record(CollectionCase(customer=customer, opened_on=opened_on), actor=actor, reason=reason)
        case.save()
    return case


def place_debt(
    *,
    creditor: Creditor,
    product: Product,
    customer: Customer,
    account_number: str,
    currency: str,
    opened_on: date,
    instalments: list[dict],
    actor,
    reason: str = "account placed",
    source: str = "api",
    placed_on: date | None = None,
) -> Debt:
    """Create a debt with its schedule and post its principal.

    Raises ``ValidationError`` (nothing written) for a product of another
    creditor, a currency that is not the policy's, a duplicate account number
    or a schedule that does not hold together.
    """
    account_number = (account_number or "").strip()
    if not account_number:
        raise ValidationError({"account_number": "An account number is required."})
    if product.creditor_id != creditor.pk:
        raise ValidationError({"product": "This product belongs to another creditor."})
    policy = product.policy
    if currency != policy.currency:
        raise ValidationError({"currency": f"The product's policy collects in {policy.currency}."})
    schedule = _parse_schedule(instalments, opened_on)
    principal_total = sum((p["principal"] for p in schedule), Decimal("0.00"))
    try:
        with transaction.atomic():
            if Debt.objects.filter(creditor=creditor, account_number=account_number).exists():
                raise ValidationError(
                    {"account_number": f"Account {account_number} is already placed for {creditor}."}
                )
            case = open_case_for(
                customer=customer,
                opened_on=placed_on or timezone.localdate(),
                actor=actor,
                reason=reason,
            )
            debt = Debt(
                creditor=creditor,
                product=product,
                customer=customer,
                case=case,
                account_number=account_number,
                currency=currency,
                opened_on=opened_on,
                original_principal=principal_total,
                limitation_on=add_years(schedule[-1]["due_on"], policy.limitation_years),
            )
            record(debt, actor=actor, reason=reason)
            debt.save()
            rows = [Instalment(debt=debt, number=n, **line) for n, line in enumerate(schedule, start=1)]
            for row in rows:
                record(row, actor=actor, reason=reason)
                row.save()
            apply_entries(
                debt=debt,
                specs=[
                    EntrySpec(
                        component="principal",
                        amount=row.principal,
                        kind=LedgerEntry.Kind.CHARGE,
                        effective_on=opened_on,
                        key=f"debt:{debt.pk}:principal:{row.number}",
                        source=source,
                        instalment=row,
                    )
                    for row in rows
                    if row.principal > 0
                ],
                actor=actor,
                reason=reason,
                instalments={row.pk: row for row in rows},
            )
            if case.assigned_to_id is None:
                from cases.tasks_assignment import auto_assign_cases

                transaction.on_commit(lambda: auto_assign_cases.delay(case_ids=[case.pk]))
            return debt
    except IntegrityError as exc:
        raise ValidationError(
            {"account_number": f"Account {account_number} is already placed for {creditor}."}
        ) from exc
