"""Settlements: a discount on a debt's balance, valid until a date (RULES.md §5).

Approval limits come from the policy: a collector may give up to
``settlement_limit_collector`` percent, a team lead up to
``settlement_limit_team_lead``, a supervisor or administrator any discount.
An offer within the requester's own limit is approved at once; otherwise it
waits for someone whose limit covers it.

When payments on the debt reach the settlement amount while the offer is
valid, the rest of the balance is waived through the ledger (``waiver``
entries) and the debt closes as ``settled``.

Hooks for other services (the lead wires them in):

- ``apply_payment_to_settlements(payment=..., actor=...)`` after a payment is
  posted, in the same transaction;
- ``expire_settlements(business_date=..., actor=...)`` in close of business.
"""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from backoffice.audit import record
from backoffice.errors import Conflict
from backoffice.money import round_half_up
from backoffice.roles import ADMINISTRATOR, COLLECTOR, SUPERVISOR, TEAM_LEAD
from cases.models import CollectionCase, CollectionPolicy, Debt, LedgerEntry, Payment, Settlement
from cases.services.holds import clean_reason, ensure_not_on_hold, lock_case
from cases.services.ledger import EntrySpec, apply_entries, lock_debt

HUNDRED = Decimal("100")
OPEN_STATUSES = (Settlement.Status.PENDING_APPROVAL, Settlement.Status.APPROVED)
# Order in which the remainder is waived (components before principal).
WAIVER_ORDER = ("penalty", "fees", "interest", "principal", "legal_cost")


def approval_limit(user, policy: CollectionPolicy) -> Decimal | None:
    """The largest discount (percent) ``user`` may grant; ``None`` = unlimited.

    Superusers, supervisors and administrators are unlimited; a team lead has
    the policy's team-lead limit, a collector the collector limit; anyone
    else may not grant a discount (0).
    """
    if user is None or not user.is_authenticated:
        return Decimal("0")
    if user.is_superuser:
        return None
    groups = set(user.groups.values_list("name", flat=True))
    if groups & {SUPERVISOR, ADMINISTRATOR}:
        return None
    if TEAM_LEAD in groups:
        return policy.settlement_limit_team_lead
    if COLLECTOR in groups:
        return policy.settlement_limit_collector
    return Decimal("0")


def covers(limit: Decimal | None, discount: Decimal) -> bool:
    return limit is None or discount <= limit


def required_role(policy: CollectionPolicy, discount: Decimal) -> str:
    """The least role whose limit covers ``discount``."""
    if discount <= policy.settlement_limit_collector:
        return "collector"
    if discount <= policy.settlement_limit_team_lead:
        return "team lead"
    return "supervisor"


def _parse_discount(value) -> Decimal:
    try:
        discount = Decimal(str(value)) if not isinstance(value, float) else None
    except (InvalidOperation, ValueError):
        discount = None
    if discount is None or not discount.is_finite():
        raise ValidationError({"discount_percent": "Give the discount as a percentage such as 20.00."})
    if discount != discount.quantize(Decimal("0.01")):
        raise ValidationError({"discount_percent": "Use at most two decimal places."})
    if not (0 < discount < HUNDRED):
        raise ValidationError({"discount_percent": "The discount must be more than 0 and less than 100 %."})
    return discount


def propose_settlement(
    *,
    case: CollectionCase,
    debt: Debt,
    discount_percent,
    valid_until: date,
    today: date,
    actor,
    reason: str = "settlement proposed",
) -> Settlement:
    """Offer to settle ``debt`` for its balance less ``discount_percent``.

    The amount is the balance less the discount, rounded half-up to the cent.
    Approved at once when the requester's own limit covers the discount,
    otherwise ``pending_approval``. ``ValidationError`` (nothing saved) for a
    discount outside (0, 100), a ``valid_until`` before ``today`` or a debt of
    another case; ``Conflict`` when the debt is closed or owes nothing, already
    has an open offer, or the case is on a hold.
    """
    reason = clean_reason(reason)
    errors: dict[str, list[str]] = {}
    try:
        discount = _parse_discount(discount_percent)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if not isinstance(valid_until, date) or valid_until < today:
        errors["valid_until"] = ["The offer must be valid until today or later."]
    if debt.case_id != case.pk:
        errors["debt"] = ["This debt is not on the case."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked_case = lock_case(case)
        ensure_not_on_hold(locked_case, actor=actor, action="offer a settlement")
        locked = lock_debt(debt.pk)
        if locked.status not in Debt.ACTIVE_STATUSES:
            raise Conflict({"debt": f"The debt is {locked.get_status_display().lower()}."})
        balance = locked.total_balance
        if balance <= 0:
            raise Conflict({"debt": "The debt owes nothing."})
        if Settlement.objects.filter(debt=locked, status__in=OPEN_STATUSES).exists():
            raise Conflict({"debt": "This debt already has an open settlement offer."})
        policy = locked.product.policy
        amount = round_half_up(balance * (HUNDRED - discount) / HUNDRED)
        settlement = Settlement(
            case=locked_case,
            debt=locked,
            balance_at_offer=balance,
            discount_percent=discount,
            amount=amount,
            valid_until=valid_until,
            requested_by=actor,
            status=Settlement.Status.PENDING_APPROVAL,
        )
        if covers(approval_limit(actor, policy), discount):
            settlement.status = Settlement.Status.APPROVED
            settlement.approved_by = actor
            settlement.decided_at = timezone.now()
            settlement.decision_reason = "within the requester's approval limit"
        record(settlement, actor=actor, reason=reason)
        settlement.save()
        return settlement


def decide_settlement(*, settlement: Settlement, approve: bool, actor, reason: str) -> Settlement:
    """Approve or reject an offer waiting for approval.

    Only a user whose limit covers the discount may decide (``Conflict``
    naming the role needed); ``reason`` is required.
    """
    reason = clean_reason(reason)
    with transaction.atomic():
        locked = (
            Settlement.objects.select_for_update(of=("self",))
            .select_related("debt__product__policy")
            .get(pk=settlement.pk)
        )
        if locked.status != Settlement.Status.PENDING_APPROVAL:
            raise Conflict({"status": f"The settlement is {locked.get_status_display().lower()}."})
        policy = locked.debt.product.policy
        if not covers(approval_limit(actor, policy), locked.discount_percent):
            role = required_role(policy, locked.discount_percent)
            needed = f"A {locked.discount_percent} % discount needs a {role} (or above) to decide."
            raise Conflict({"approved_by": needed})
        locked.status = Settlement.Status.APPROVED if approve else Settlement.Status.REJECTED
        locked.approved_by = actor if approve else None
        locked.decided_at = timezone.now()
        locked.decision_reason = reason
        record(locked, actor=actor, reason=reason)
        locked.save(update_fields=["status", "approved_by", "decided_at", "decision_reason"])
        return locked


def apply_payment_to_settlements(*, payment: Payment, actor) -> Settlement | None:
    """Count a posted payment towards the approved, unexpired offer on its debt.

    When the offer is paid in full, the rest of the balance is waived through
    the ledger and the debt becomes ``settled``. Idempotent per payment.
    Returns the settlement changed, if any.
    """
    if payment.status != Payment.Status.POSTED:
        return None
    reason = f"payment {payment.pk} counted"
    with transaction.atomic():
        debt = lock_debt(payment.debt_id)
        settlement = (
            Settlement.objects.select_for_update()
            .filter(
                debt=debt,
                status=Settlement.Status.APPROVED,
                valid_until__gte=payment.received_on,
            )
            .order_by("id")
            .first()
        )
        if settlement is None or settlement.history.filter(history_change_reason=reason).exists():
            return None
        settlement.paid_amount += payment.amount
        fields = ["paid_amount"]
        if settlement.paid_amount >= settlement.amount:
            _waive_remainder(debt, settlement, on=payment.received_on, actor=actor)
            settlement.status = Settlement.Status.PAID
            settlement.completed_on = payment.received_on
            fields += ["status", "completed_on"]
        record(settlement, actor=actor, reason=reason)
        settlement.save(update_fields=fields)
        return settlement


def _waive_remainder(debt: Debt, settlement: Settlement, *, on: date, actor) -> None:
    """Waive every owed component still on the locked ``debt`` and close it
    as ``settled`` (penalty, fees, interest and principal per instalment,
    legal costs: RULES §2 corrections are new entries)."""
    reason = f"settlement {settlement.pk} paid: remainder waived"
    instalments = list(debt.instalments.select_for_update().order_by("due_on", "number"))
    specs = []

    def waive(component: str, amount: Decimal, instalment=None) -> None:
        if amount > 0:
            key_part = instalment.number if instalment is not None else "-"
            specs.append(
                EntrySpec(
                    component=component,
                    amount=-amount,
                    kind=LedgerEntry.Kind.WAIVER,
                    effective_on=on,
                    key=f"settlement:{settlement.pk}:{component}:{key_part}",
                    source=f"settlement:{settlement.pk}",
                    instalment=instalment,
                )
            )

    for component in WAIVER_ORDER:
        if component in ("interest", "principal"):
            for inst in instalments:
                waive(component, getattr(inst, f"{component}_balance"), inst)
        else:
            waive(component, debt.balance(component))
    if not specs:
        # The payment cleared the whole balance: the debt is simply paid.
        return
    apply_entries(
        debt=debt,
        specs=specs,
        actor=actor,
        reason=reason,
        instalments={i.pk: i for i in instalments},
    )
    debt.status = Debt.Status.SETTLED
    record(debt, actor=actor, reason=reason)
    debt.save(update_fields=["status"])


def expire_settlements(*, business_date: date, actor) -> int:
    """Expire open offers whose ``valid_until`` is before ``business_date``.

    Idempotent. Returns how many expired.
    """
    reason = f"settlement expired on {business_date.isoformat()}"
    count = 0
    with transaction.atomic():
        for settlement in (
            Settlement.objects.select_for_update()
            .filter(status__in=OPEN_STATUSES, valid_until__lt=business_date)
            .order_by("id")
        ):
            settlement.status = Settlement.Status.EXPIRED
            record(settlement, actor=actor, reason=reason)
            settlement.save(update_fields=["status"])
            count += 1
    return count
