"""Payment plans (RULES.md §5).

A plan is an agreed total split into instalments that add up to it exactly.
Payments on the plan's debt pay its instalments oldest first; a plan whose
instalments are all paid is ``completed``. An instalment still unpaid after
its due date is ``missed``; after the policy's ``plan_default_after_missed``
missed instalments the plan is ``defaulted``. One active plan per debt.

Hooks for other services (the lead wires them in):

- ``apply_payment_to_plans(payment=..., actor=...)`` after a payment is
  posted, in the same transaction;
- ``mark_missed_plan_instalments(business_date=..., actor=...)`` in close of
  business, after the day's payments.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from backoffice.audit import record
from backoffice.errors import Conflict
from backoffice.money import ZERO
from cases.models import CollectionCase, Debt, Payment, PaymentPlan, PlanInstalment
from cases.services.holds import clean_reason, ensure_not_on_hold, lock_case
from cases.services.ledger import lock_debt
from cases.services.promises import parse_amount


def _parse_instalments(instalments, *, total, today: date) -> list[dict]:
    if not isinstance(instalments, list | tuple) or not instalments:
        raise ValidationError({"instalments": "A plan needs at least one instalment."})
    parsed, errors = [], []
    for n, line in enumerate(instalments, start=1):
        try:
            due_on = line["due_on"]
            if isinstance(due_on, str):
                due_on = date.fromisoformat(due_on)
            if not isinstance(due_on, date):
                raise TypeError
            amount = parse_amount(line["amount"])
        except (KeyError, TypeError, ValueError):
            errors.append(f"Instalment {n}: needs a due_on date and an amount.")
            continue
        except ValidationError:
            errors.append(f"Instalment {n}: the amount must be greater than zero.")
            continue
        if due_on < today:
            errors.append(f"Instalment {n}: due date cannot be in the past.")
        parsed.append({"due_on": due_on, "amount": amount})
    if errors:
        raise ValidationError({"instalments": errors})
    dates = [p["due_on"] for p in parsed]
    if any(later <= earlier for earlier, later in zip(dates, dates[1:], strict=False)):
        raise ValidationError({"instalments": "Due dates must be distinct and increasing."})
    if total is not None:
        added = sum((p["amount"] for p in parsed), ZERO)
        if added != total:
            difference = added - total
            more_or_less = "more" if difference > 0 else "less"
            raise ValidationError(
                {
                    "instalments": (
                        f"The instalments add up to {added}, {abs(difference)} {more_or_less} "
                        f"than the agreed total {total}."
                    )
                }
            )
    return parsed


def create_plan(
    *,
    case: CollectionCase,
    debt: Debt,
    total,
    instalments: list[dict],
    today: date,
    actor,
    reason: str = "payment plan agreed",
) -> PaymentPlan:
    """Agree a payment plan for ``debt``.

    ``instalments`` is ``[{"due_on": date, "amount": "…"}]``. ``ValidationError``
    (nothing saved) unless they add up exactly to ``total``, their due dates
    are distinct, increasing and not before ``today``, ``total`` is no more
    than the debt's balance and the debt is on the case. ``Conflict`` when the
    debt already has an active plan, is closed, or the case is on a hold.
    """
    reason = clean_reason(reason)
    errors: dict[str, list[str]] = {}
    try:
        total = parse_amount(total, "total")
    except ValidationError as exc:
        errors.update(exc.message_dict)
        total = None
    if debt.case_id != case.pk:
        errors["debt"] = ["This debt is not on the case."]
    try:
        schedule = _parse_instalments(instalments, total=total, today=today)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked_case = lock_case(case)
        ensure_not_on_hold(locked_case, actor=actor, action="agree a payment plan")
        locked = lock_debt(debt.pk)
        if locked.status not in Debt.ACTIVE_STATUSES:
            raise Conflict({"debt": f"The debt is {locked.get_status_display().lower()}."})
        if total > locked.total_balance:
            raise ValidationError(
                {"total": f"The plan's total {total} is more than the debt's balance {locked.total_balance}."}
            )
        if PaymentPlan.objects.filter(debt=locked, status=PaymentPlan.Status.ACTIVE).exists():
            raise Conflict({"debt": "This debt already has an active payment plan."})
        plan = PaymentPlan(case=locked_case, debt=locked, total=total, created_by=actor)
        record(plan, actor=actor, reason=reason)
        plan.save()
        for number, line in enumerate(schedule, start=1):
            row = PlanInstalment(plan=plan, number=number, **line)
            record(row, actor=actor, reason=reason)
            row.save()
        return plan


def cancel_plan(*, plan: PaymentPlan, actor, reason: str) -> PaymentPlan:
    """Cancel an active plan (e.g. replaced by a settlement)."""
    reason = clean_reason(reason)
    with transaction.atomic():
        locked = PaymentPlan.objects.select_for_update().get(pk=plan.pk)
        if locked.status != PaymentPlan.Status.ACTIVE:
            raise Conflict({"status": f"The plan is {locked.get_status_display().lower()}."})
        locked.status = PaymentPlan.Status.CANCELLED
        record(locked, actor=actor, reason=reason)
        locked.save(update_fields=["status"])
        return locked


def apply_payment_to_plans(*, payment: Payment, actor) -> list[PlanInstalment]:
    """Pay the instalments of the active plan on the payment's debt.

    Oldest instalment first, missed ones included (paid late, still counted
    as missed). When every instalment is paid the plan is ``completed``.
    Idempotent per payment and plan. Returns the instalments changed.
    """
    if payment.status != Payment.Status.POSTED:
        return []
    reason = f"payment {payment.pk} counted"
    changed: list[PlanInstalment] = []
    with transaction.atomic():
        plans = list(
            PaymentPlan.objects.select_for_update()
            .filter(debt_id=payment.debt_id, status=PaymentPlan.Status.ACTIVE)
            .order_by("id")
        )
        remaining = payment.amount
        for plan in plans:
            if plan.history.filter(history_change_reason=reason).exists():
                continue
            rows = list(
                PlanInstalment.objects.select_for_update()
                .filter(plan=plan)
                .exclude(status=PlanInstalment.Status.PAID)
                .order_by("number")
            )
            for row in rows:
                if remaining <= 0:
                    break
                portion = min(remaining, row.amount - row.paid_amount)
                remaining -= portion
                row.paid_amount += portion
                if row.paid_amount >= row.amount:
                    row.status = PlanInstalment.Status.PAID
                record(row, actor=actor, reason=reason)
                row.save(update_fields=["paid_amount", "status"])
                changed.append(row)
            if not plan.instalments.exclude(status=PlanInstalment.Status.PAID).exists():
                plan.status = PaymentPlan.Status.COMPLETED
            # Saved even when unchanged: the history row marks the payment as counted.
            record(plan, actor=actor, reason=reason)
            plan.save(update_fields=["status"])
    return changed


def mark_missed_plan_instalments(*, business_date: date, actor) -> dict[str, int]:
    """Mark unpaid instalments due before ``business_date`` as missed; default
    plans that reached the policy's missed-instalment limit.

    Idempotent: a missed instalment is not counted twice. Returns counts.
    """
    reason = f"plan instalments checked for {business_date.isoformat()}"
    counts = {"missed": 0, "defaulted": 0}
    with transaction.atomic():
        rows = list(
            PlanInstalment.objects.select_for_update()
            .filter(
                status=PlanInstalment.Status.DUE,
                due_on__lt=business_date,
                plan__status=PaymentPlan.Status.ACTIVE,
            )
            .order_by("plan_id", "number")
        )
        by_plan: dict[int, list[PlanInstalment]] = {}
        for row in rows:
            by_plan.setdefault(row.plan_id, []).append(row)
        plans = (
            PaymentPlan.objects.select_for_update(of=("self",))
            .filter(pk__in=by_plan)
            .select_related("debt__product__policy")
            .order_by("id")
        )
        for plan in plans:
            for row in by_plan[plan.pk]:
                row.status = PlanInstalment.Status.MISSED
                record(row, actor=actor, reason=reason)
                row.save(update_fields=["status"])
            plan.missed_count += len(by_plan[plan.pk])
            counts["missed"] += len(by_plan[plan.pk])
            if plan.missed_count >= plan.debt.product.policy.plan_default_after_missed:
                plan.status = PaymentPlan.Status.DEFAULTED
                counts["defaulted"] += 1
            record(plan, actor=actor, reason=reason)
            plan.save(update_fields=["missed_count", "status"])
    return counts
