"""Placing an account: a debt, its schedule, its principal on the ledger, and
its customer's open case (DESIGN.md contracts: ``POST debts/``).

The per-account rules (``validate_placement``) and the rows a placement
builds (``build_debt``, ``build_instalments``, ``principal_specs``) are shared
with placement files (``cases.placements.services``), which write the same
rows in bulk: one set of rules whichever door an account comes through."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from backoffice.audit import record
from backoffice.dispatch import enqueue_after_commit
from backoffice.money import ZERO, to_money
from cases.models import CollectionCase, Creditor, Debt, Instalment, LedgerEntry, Product
from cases.services.assignment import AUTO_ASSIGN_TASK
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


ACCOUNT_NUMBER_MAX = Debt._meta.get_field("account_number").max_length


@dataclass(frozen=True)
class PlacementPlan:
    """A placement that passed every per-account rule: what ``place_debt``
    and the placement-file loader both build from."""

    account_number: str
    currency: str
    opened_on: date
    schedule: list[dict]
    principal_total: Decimal
    limitation_on: date


def validate_placement(
    *,
    creditor: Creditor,
    product: Product,
    account_number: str,
    currency: str,
    opened_on: date,
    instalments: list[dict],
) -> PlacementPlan:
    """The per-account rules of a placement, shared by ``POST debts/`` and
    placement files (``cases.placements``), so both refuse the same input with
    the same messages. Reads nothing from the database beyond the product's
    policy; duplicate account numbers are the caller's check (one query for
    the API, one per batch for a file). Raises ``ValidationError`` keyed by
    field: ``account_number``, ``product``, ``currency``, ``instalments``."""
    account_number = (account_number or "").strip()
    if not account_number:
        raise ValidationError({"account_number": "An account number is required."})
    if len(account_number) > ACCOUNT_NUMBER_MAX:
        raise ValidationError(
            {"account_number": f"An account number has at most {ACCOUNT_NUMBER_MAX} characters."}
        )
    if product.creditor_id != creditor.pk:
        raise ValidationError({"product": "This product belongs to another creditor."})
    policy = product.policy
    if currency != policy.currency:
        raise ValidationError({"currency": f"The product's policy collects in {policy.currency}."})
    schedule = _parse_schedule(instalments, opened_on)
    return PlacementPlan(
        account_number=account_number,
        currency=currency,
        opened_on=opened_on,
        schedule=schedule,
        principal_total=sum((p["principal"] for p in schedule), Decimal("0.00")),
        limitation_on=add_years(schedule[-1]["due_on"], policy.limitation_years),
    )


def build_debt(
    *, plan: PlacementPlan, creditor: Creditor, product: Product, customer_id: int, case_id
) -> Debt:
    """The unsaved debt of ``plan``; its principal balance is set by the
    ledger entries (``apply_entries``) or, in bulk, to their sum."""
    return Debt(
        creditor=creditor,
        product=product,
        customer_id=customer_id,
        case_id=case_id,
        account_number=plan.account_number,
        currency=plan.currency,
        opened_on=plan.opened_on,
        original_principal=plan.principal_total,
        limitation_on=plan.limitation_on,
    )


def build_instalments(*, plan: PlacementPlan, debt: Debt) -> list[Instalment]:
    return [Instalment(debt=debt, number=n, **line) for n, line in enumerate(plan.schedule, start=1)]


def principal_key(debt_id: int, number: int) -> str:
    """Idempotency key of the principal charge of instalment ``number``."""
    return f"debt:{debt_id}:principal:{number}"


def principal_specs(*, debt: Debt, rows: list[Instalment], opened_on: date, source: str) -> list[EntrySpec]:
    """The principal charges a placement posts: one per instalment owing principal."""
    return [
        EntrySpec(
            component="principal",
            amount=row.principal,
            kind=LedgerEntry.Kind.CHARGE,
            effective_on=opened_on,
            key=principal_key(debt.pk, row.number),
            source=source,
            instalment=row,
        )
        for row in rows
        if row.principal > 0
    ]


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
    plan = validate_placement(
        creditor=creditor,
        product=product,
        account_number=account_number,
        currency=currency,
        opened_on=opened_on,
        instalments=instalments,
    )
    account_number = plan.account_number
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
            debt = build_debt(
                plan=plan, creditor=creditor, product=product, customer_id=customer.pk, case_id=case.pk
            )
            debt.customer = customer
            debt.case = case
            record(debt, actor=actor, reason=reason)
            debt.save()
            rows = build_instalments(plan=plan, debt=debt)
            for row in rows:
                record(row, actor=actor, reason=reason)
                row.save()
            apply_entries(
                debt=debt,
                specs=principal_specs(debt=debt, rows=rows, opened_on=opened_on, source=source),
                actor=actor,
                reason=reason,
                instalments={row.pk: row for row in rows},
            )
            if case.assigned_to_id is None:
                enqueue_after_commit(AUTO_ASSIGN_TASK, case_ids=[case.pk])
            return debt
    except IntegrityError as exc:
        raise ValidationError(
            {"account_number": f"Account {account_number} is already placed for {creditor}."}
        ) from exc
