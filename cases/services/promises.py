"""Promises to pay (RULES.md §5).

A promise is ``pending`` until settled: payments on the case's debts count
towards pending promises, oldest due date first, when received by the due
date plus the policy's ``promise_grace_days``. Once that window has passed,
close of business (``settle_due_promises``) decides: ``kept`` (paid ≥
promised), ``partially_kept`` (something paid) or ``broken`` (nothing). A
broken or partially kept promise raises the case's priority.

Hooks for other services (the lead wires them in):

- ``apply_payment_to_promises(payment=..., actor=...)`` after a payment is
  posted, in the same transaction;
- ``settle_due_promises(business_date=..., actor=...)`` in close of
  business, after the day's payments.
"""

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from backoffice.audit import record
from backoffice.errors import Conflict
from backoffice.money import ZERO, to_money
from cases.models import CollectionCase, ContactAttempt, Debt, Payment, PromiseToPay
from cases.services.holds import clean_reason, ensure_not_on_hold, lock_case

# A sanity bound, not a policy: a "promise" months away is a plan.
MAX_PROMISE_DAYS = 90
# Added to a case's priority per broken or partially kept promise.
BROKEN_PROMISE_PRIORITY_BUMP = Decimal("1000")


def parse_amount(value, field: str = "amount") -> Decimal:
    """A positive money amount, or a per-field ``ValidationError``."""
    try:
        amount = to_money(value)
    except (TypeError, ValueError, ArithmeticError, InvalidOperation):
        raise ValidationError({field: "Give an amount such as 100.00."}) from None
    if amount <= 0:
        raise ValidationError({field: "The amount must be greater than zero."})
    return amount


def make_promise(
    *,
    case: CollectionCase,
    amount,
    due_on: date,
    today: date,
    actor,
    debt: Debt | None = None,
    contact: ContactAttempt | None = None,
    reason: str = "promise to pay made",
) -> PromiseToPay:
    """Record a promise to pay ``amount`` by ``due_on``.

    ``ValidationError`` (nothing saved) for a non-positive amount, a due date
    before ``today`` or more than 90 days ahead, a debt or contact of another
    case; ``Conflict`` when the case is closed or on a hold.
    """
    reason = clean_reason(reason)
    errors: dict[str, str] = {}
    try:
        amount = parse_amount(amount)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if not isinstance(due_on, date):
        errors["due_on"] = "Give the date the customer promised to pay by."
    elif due_on < today:
        errors["due_on"] = "A promise cannot be due in the past."
    elif due_on > today + timedelta(days=MAX_PROMISE_DAYS):
        errors["due_on"] = f"A promise is due within {MAX_PROMISE_DAYS} days; agree a payment plan instead."
    if debt is not None and debt.case_id != case.pk:
        errors["debt"] = "This debt is not on the case."
    if contact is not None and contact.case_id != case.pk:
        errors["contact"] = "This contact attempt is not on the case."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = lock_case(case)
        if locked.stage == CollectionCase.Stage.CLOSED:
            raise Conflict({"case": "The case is closed."})
        ensure_not_on_hold(locked, actor=actor, action="take a promise to pay")
        promise = PromiseToPay(
            case=locked, debt=debt, contact=contact, amount=amount, due_on=due_on, created_by=actor
        )
        record(promise, actor=actor, reason=reason)
        promise.save()
        return promise


def cancel_promise(*, promise: PromiseToPay, actor, reason: str) -> PromiseToPay:
    """Cancel a pending promise. ``Conflict`` once it is settled."""
    reason = clean_reason(reason)
    with transaction.atomic():
        locked = PromiseToPay.objects.select_for_update().get(pk=promise.pk)
        if locked.status != PromiseToPay.Status.PENDING:
            raise Conflict({"status": f"The promise is already {locked.get_status_display().lower()}."})
        locked.status = PromiseToPay.Status.CANCELLED
        record(locked, actor=actor, reason=reason)
        locked.save(update_fields=["status"])
        return locked


def grace_days(promise: PromiseToPay) -> int:
    """The promise grace of the promise's debt's policy, or the longest of the
    case's debts' policies when the promise names no debt."""
    if promise.debt_id:
        return promise.debt.product.policy.promise_grace_days
    graces = [
        d.product.policy.promise_grace_days for d in promise.case.debts.select_related("product__policy")
    ]
    return max(graces, default=0)


def _payment_reason(payment: Payment) -> str:
    return f"payment {payment.pk} counted"


def apply_payment_to_promises(*, payment: Payment, actor) -> list[PromiseToPay]:
    """Count a posted payment towards the pending promises of its case.

    Oldest due date first; only promises whose window (due date + grace)
    includes the payment's received date; only promises on the payment's debt
    or naming no debt. A promise paid in full becomes ``kept``. Idempotent: a
    payment already counted for a promise is not counted again. Returns the
    promises changed.
    """
    if payment.status != Payment.Status.POSTED:
        return []
    reason = _payment_reason(payment)
    changed = []
    with transaction.atomic():
        debt = Debt.objects.select_related("product__policy").get(pk=payment.debt_id)
        if debt.case_id is None:
            return []
        promises = list(
            PromiseToPay.objects.select_for_update(of=("self",))
            .filter(case_id=debt.case_id, status=PromiseToPay.Status.PENDING)
            .filter(Q(debt__isnull=True) | Q(debt_id=debt.pk))
            .select_related("debt__product__policy", "case")
            .order_by("due_on", "id")
        )
        remaining = payment.amount
        for promise in promises:
            if remaining <= 0:
                break
            if payment.received_on > promise.due_on + timedelta(days=grace_days(promise)):
                continue
            if promise.history.filter(history_change_reason=reason).exists():
                continue
            portion = min(remaining, promise.amount - promise.paid_amount)
            if portion <= 0:
                continue
            remaining -= portion
            promise.paid_amount += portion
            fields = ["paid_amount"]
            if promise.paid_amount >= promise.amount:
                promise.status = PromiseToPay.Status.KEPT
                promise.settled_on = payment.received_on
                fields += ["status", "settled_on"]
            record(promise, actor=actor, reason=reason)
            promise.save(update_fields=fields)
            changed.append(promise)
    return changed


def settle_due_promises(*, business_date: date, actor) -> dict[str, int]:
    """Settle every pending promise whose window closed before ``business_date``.

    ``kept`` if paid in full, ``partially_kept`` if paid in part, ``broken``
    if nothing was paid. Broken and partially kept promises raise their
    case's priority. Idempotent: settled promises are not pending any more.
    Returns counts by new status.
    """
    reason = f"promises settled for {business_date.isoformat()}"
    counts = {
        PromiseToPay.Status.KEPT: 0,
        PromiseToPay.Status.PARTIALLY_KEPT: 0,
        PromiseToPay.Status.BROKEN: 0,
    }
    with transaction.atomic():
        promises = list(
            PromiseToPay.objects.select_for_update(of=("self",))
            .filter(status=PromiseToPay.Status.PENDING, due_on__lt=business_date)
            .select_related("debt__product__policy", "case")
            .order_by("case_id", "due_on", "id")
        )
        for promise in promises:
            settled_on = promise.due_on + timedelta(days=grace_days(promise))
            if settled_on >= business_date:
                continue
            if promise.paid_amount >= promise.amount:
                status = PromiseToPay.Status.KEPT
            elif promise.paid_amount > ZERO:
                status = PromiseToPay.Status.PARTIALLY_KEPT
            else:
                status = PromiseToPay.Status.BROKEN
            promise.status = status
            promise.settled_on = settled_on
            record(promise, actor=actor, reason=reason)
            promise.save(update_fields=["status", "settled_on"])
            counts[status] += 1
            if status != PromiseToPay.Status.KEPT:
                _raise_priority(promise, actor=actor, reason=reason)
    return {str(k): v for k, v in counts.items()}


def _raise_priority(promise: PromiseToPay, *, actor, reason: str) -> None:
    case = lock_case(promise.case_id)
    case.broken_promises += 1
    case.priority += BROKEN_PROMISE_PRIORITY_BUMP
    case.priority_reasons = [
        *(case.priority_reasons or []),
        f"broken promise on {promise.due_on.isoformat()}",
    ]
    record(case, actor=actor, reason=reason)
    case.save(update_fields=["broken_promises", "priority", "priority_reasons"])
