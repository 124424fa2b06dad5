"""Money in: posting and reversing payments (RULES.md §2).

``post_payment`` is idempotent by the external reference and by an optional
idempotency key: a repeat returns the first payment and posts nothing. The
debt row is locked before anything is read, so two concurrent postings to
one debt run one after the other and the second sees the first's effect.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from backoffice.audit import record, system_user
from backoffice.errors import Conflict, PaymentConflict
from backoffice.money import ZERO, to_money
from cases.models import Debt, Instalment, LedgerEntry, Payment
from cases.services import events
from cases.services.close_of_business import close_chunk, interest_due_specs
from cases.services.ledger import EntrySpec, apply_entries, lock_debt
from cases.services.limitation import limitation_date
from cases.services.plans import apply_payment_to_plans
from cases.services.promises import apply_payment_to_promises
from cases.services.settlements import apply_payment_to_settlements


@dataclass(frozen=True)
class PaymentResult:
    payment: Payment
    created: bool


def _existing(reference: str, idempotency_key: str | None) -> Payment | None:
    query = Payment.objects.filter(reference=reference)
    found = query.first()
    if found is None and idempotency_key:
        found = Payment.objects.filter(idempotency_key=idempotency_key).first()
    return found


def _check_repeat(
    payment: Payment, *, debt_id: int, amount: Decimal, reference: str, received_on: date
) -> None:
    if (
        payment.debt_id != debt_id
        or payment.amount != amount
        or payment.reference != reference
        or payment.received_on != received_on
    ):
        raise PaymentConflict(
            {
                "reference": (
                    f"Payment {payment.reference} was already posted with different "
                    "details (debt, amount, date or reference)."
                )
            }
        )


def allocate(*, debt: Debt, instalments: list[Instalment], amount: Decimal, received_on: date):
    """Split ``amount`` by the policy's waterfall.

    Returns ``(parts, leftover)`` where parts are ``(component, instalment,
    amount)``. Instalments with a due date before ``received_on`` are
    overdue; within a step the oldest instalment is paid first.
    """
    remaining = amount
    parts: list[tuple[str, Instalment | None, Decimal]] = []
    ordered = sorted(instalments, key=lambda i: (i.due_on, i.number))
    owed_inst = {(i.pk, c): getattr(i, f"{c}_balance") for i in ordered for c in ("principal", "interest")}

    def take(component: str, instalment: Instalment | None, available: Decimal) -> None:
        nonlocal remaining
        portion = min(remaining, available)
        if portion > 0:
            parts.append((component, instalment, portion))
            remaining -= portion
            if instalment is not None:
                owed_inst[(instalment.pk, component)] -= portion

    for step in debt.product.policy.waterfall:
        if remaining <= 0:
            break
        if step in ("legal_cost", "fees", "penalty"):
            take(step, None, debt.balance(step))
            continue
        prefix, _, component = step.rpartition("_")
        for inst in ordered:
            overdue = inst.due_on < received_on
            if (prefix == "overdue" and not overdue) or (prefix == "current" and overdue):
                continue
            take(component, inst, owed_inst[(inst.pk, component)])
    return parts, remaining


def post_payment(
    *,
    debt: Debt | int,
    amount,
    received_on: date,
    reference: str,
    channel: str = Payment.Channel.BANK_TRANSFER,
    currency: str | None = None,
    idempotency_key: str | None = None,
    actor=None,
    reason: str = "payment received",
    today: date | None = None,
) -> PaymentResult:
    """Post a payment to a debt and allocate it by the waterfall.

    Raises ``ValidationError`` for a non-positive amount, an unknown debt, a
    currency that is not the debt's, a date after ``today`` (default: the
    local date), or an overpayment beyond the policy's tolerance;
    ``Conflict`` for a closed debt and ``PaymentConflict`` when the reference
    was used for a different payment. Nothing is written when it raises.
    """
    try:
        amount = to_money(amount)
    except (TypeError, ArithmeticError, ValueError):
        raise ValidationError({"amount": "Amount must be a decimal number."}) from None
    if amount <= 0:
        raise ValidationError({"amount": "Amount must be greater than zero."})
    today = today or timezone.localdate()
    if received_on > today:
        raise ValidationError({"received_on": "A payment cannot be received in the future."})
    reference = (reference or "").strip()
    if not reference:
        raise ValidationError({"reference": "A payment needs its external reference."})
    if channel not in Payment.Channel.values:
        raise ValidationError({"channel": f"Unknown channel {channel!r}."})
    debt_id = debt.pk if isinstance(debt, Debt) else debt

    repeat = _existing(reference, idempotency_key)
    if repeat is not None:
        _check_repeat(repeat, debt_id=debt_id, amount=amount, reference=reference, received_on=received_on)
        return PaymentResult(repeat, created=False)
    try:
        with transaction.atomic():
            return _post_locked(
                debt_id=debt_id,
                amount=amount,
                received_on=received_on,
                reference=reference,
                channel=channel,
                currency=currency,
                idempotency_key=idempotency_key,
                actor=actor,
                reason=reason,
            )
    except IntegrityError:
        # A concurrent request with the same reference won the race.
        repeat = _existing(reference, idempotency_key)
        if repeat is None:
            raise
        _check_repeat(repeat, debt_id=debt_id, amount=amount, reference=reference, received_on=received_on)
        return PaymentResult(repeat, created=False)


def _post_locked(
    *, debt_id, amount, received_on, reference, channel, currency, idempotency_key, actor, reason
):
    debt = catch_up(lock_debt(debt_id), through=received_on - timedelta(days=1), actor=actor)
    # Re-check under the lock: the first posting may have committed meanwhile.
    repeat = _existing(reference, idempotency_key)
    if repeat is not None:
        _check_repeat(repeat, debt_id=debt_id, amount=amount, reference=reference, received_on=received_on)
        return PaymentResult(repeat, created=False)
    if currency and currency != debt.currency:
        raise ValidationError({"currency": f"This debt is in {debt.currency}, not {currency}."})
    if debt.status not in Debt.ACTIVE_STATUSES:
        raise Conflict({"debt": f"The debt is {debt.get_status_display().lower()}."})
    if received_on < debt.opened_on:
        raise ValidationError({"received_on": "A payment cannot predate the account."})
    instalments = list(Instalment.objects.select_for_update().filter(debt=debt))
    due_today = interest_due_specs(debt=debt, instalments=instalments, day=received_on)
    if due_today:
        apply_entries(
            debt=debt,
            specs=due_today,
            actor=system_user(),
            reason=f"interest due {received_on.isoformat()}",
            instalments={i.pk: i for i in instalments},
        )
    parts, leftover = allocate(debt=debt, instalments=instalments, amount=amount, received_on=received_on)
    policy = debt.product.policy
    if leftover > 0 and leftover > policy.tolerance and not policy.allow_credit_balance:
        owed = amount - leftover
        raise ValidationError(
            {"amount": f"Overpayment: the debt owes {owed}, {leftover} more than that was sent."}
        )
    payment = Payment(
        debt=debt,
        amount=amount,
        currency=debt.currency,
        received_on=received_on,
        channel=channel,
        reference=reference,
        idempotency_key=idempotency_key or None,
        created_by=actor,
    )
    allocation: dict[str, Decimal] = {}
    for component, _, portion in parts:
        allocation[component] = allocation.get(component, ZERO) + portion
    if leftover > 0:
        allocation["credit"] = leftover
    payment.allocation = {k: str(v) for k, v in allocation.items()}
    record(payment, actor=actor, reason=reason)
    payment.save()
    specs = [
        EntrySpec(
            component=component,
            amount=-portion,
            kind=LedgerEntry.Kind.PAYMENT,
            effective_on=received_on,
            key=f"payment:{payment.pk}:{n}",
            source=f"payment:{reference}",
            instalment=inst,
            payment=payment,
        )
        for n, (component, inst, portion) in enumerate(parts)
    ]
    if leftover > 0:
        specs.append(
            EntrySpec(
                component="credit",
                amount=-leftover,
                kind=LedgerEntry.Kind.PAYMENT,
                effective_on=received_on,
                key=f"payment:{payment.pk}:credit",
                source=f"payment:{reference}",
                payment=payment,
            )
        )
    apply_entries(
        debt=debt,
        specs=specs,
        actor=actor,
        reason=reason,
        instalments={i.pk: i for i in instalments},
    )
    _after_money_moved(debt, actor=actor, reason=reason)
    # Collection work the payment settles (RULES §5); the settlement step may
    # waive the remainder and close the debt, so it runs last.
    apply_payment_to_promises(payment=payment, actor=actor)
    apply_payment_to_plans(payment=payment, actor=actor)
    apply_payment_to_settlements(payment=payment, actor=actor)
    # Paid in full (or settled): the case comes back from its agency (issue #9).
    events.payment_applied.send(sender=Payment, case_id=debt.case_id, on=received_on, actor=actor)
    return PaymentResult(payment, created=True)


def catch_up(debt: Debt, *, through: date, actor) -> Debt:
    """Close a locked debt through ``through`` before money moves on it.

    A payment is allocated by the state at its received date (RULES §2):
    the accruals of every earlier day must be on the ledger first, so posting
    in a gap between closes gives the same ledger as posting after a daily
    close. Dates already closed are never re-opened.
    """
    if debt.status not in Debt.ACTIVE_STATUSES or through < debt.opened_on:
        return debt
    if debt.closed_through is not None and debt.closed_through >= through:
        return debt
    close_chunk(first_id=debt.pk, last_id=debt.pk, business_date=through, actor=None)
    return lock_debt(debt.pk)


def _after_money_moved(debt: Debt, *, actor, reason: str) -> None:
    """Refresh last payment, limitation date and paid/open status."""
    last = debt.payments.filter(status=Payment.Status.POSTED).order_by("-received_on").first()
    debt.last_payment_on = last.received_on if last else None
    debt.limitation_on = limitation_date(debt)
    owed = sum((debt.balance(c) for c in ("principal", "interest", "penalty", "fees", "legal_cost")), ZERO)
    if owed == 0 and debt.status in Debt.ACTIVE_STATUSES:
        debt.status = Debt.Status.PAID
    elif owed > 0 and debt.status == Debt.Status.PAID:
        debt.status = Debt.Status.CHARGED_OFF if debt.charged_off_on else Debt.Status.OPEN
    record(debt, actor=actor, reason=reason)
    debt.save(update_fields=["last_payment_on", "limitation_on", "status"])


def reverse_payment(
    *, payment: Payment | int, reversed_on: date, actor=None, reason: str, today: date | None = None
) -> Payment:
    """Post the exact negative of a payment's allocation (a returned transfer,
    a bounced check). The reversal is effective on ``reversed_on``; accruals
    already closed are not re-opened (RULES §2)."""
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the payment is reversed."})
    if reversed_on > (today or timezone.localdate()):
        raise ValidationError({"reversed_on": "A reversal cannot be dated in the future."})
    payment_id = payment.pk if isinstance(payment, Payment) else payment
    with transaction.atomic():
        try:
            debt_id = Payment.objects.values_list("debt_id", flat=True).get(pk=payment_id)
        except Payment.DoesNotExist:
            raise ValidationError({"payment": "Unknown payment."}) from None
        debt = catch_up(lock_debt(debt_id), through=reversed_on - timedelta(days=1), actor=actor)
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.status == Payment.Status.REVERSED:
            raise Conflict({"payment": "This payment is already reversed."})
        if reversed_on < payment.received_on:
            raise ValidationError({"reversed_on": "A reversal cannot predate the payment."})
        entries = list(payment.ledger_entries.filter(kind=LedgerEntry.Kind.PAYMENT).order_by("id"))
        specs = [
            EntrySpec(
                component=e.component,
                amount=-e.amount,
                kind=LedgerEntry.Kind.REVERSAL,
                effective_on=reversed_on,
                key=f"reversal:{e.pk}",
                source=f"reversal:{payment.reference}",
                instalment=e.instalment,
                payment=payment,
            )
            for e in entries
        ]
        apply_entries(debt=debt, specs=specs, actor=actor, reason=reason)
        payment.status = Payment.Status.REVERSED
        payment.reversed_on = reversed_on
        payment.reversal_reason = reason
        record(payment, actor=actor, reason=reason)
        payment.save(update_fields=["status", "reversed_on", "reversal_reason"])
        _after_money_moved(debt, actor=actor, reason=reason)
        return payment
