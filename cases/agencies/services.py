"""Placing cases with outside agencies and recalling them (issue #9, 委外).

Rules the callers can rely on:

- A case is placed with at most one agency at a time. ``place_with_agency``
  locks each case row, refuses a case that already has an open placement
  (and the database's partial unique index backs that up), and refuses a new
  placement that would start on or before the day the case's previous
  placement ended, so a payment is never counted for two agencies.
- Placing is all-or-nothing: one refused case refuses the whole selection,
  nothing written, and the message names every refused case.
- Commission is not stored: the placement freezes the bucket, the balance
  and the agency's rate for that bucket at placement time, and
  ``cases.agencies.selectors`` derives commission from the ledger.
- A placement ends by expiry (the nightly step, once its period is over), by
  hand with a reason, on a dispute and on payment in full (immediately from
  the dispute and payment services, and again nightly as a safety net).
  Every change is a history row with the actor and the reason.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DecimalField, Exists, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from backoffice.access import may_place_with_agencies
from backoffice.audit import record
from backoffice.errors import Conflict, NotAllowed
from backoffice.money import ZERO
from cases.agencies.models import Agency, AgencyPlacement
from cases.models import OWED_COMPONENTS, CollectionCase, Debt, Dispute, Hold
from cases.services.assignment import worst_buckets
from cases.services.holds import clean_reason

ACTIVE = Debt.ACTIVE_STATUSES


@dataclass(frozen=True)
class PlacementCriteria:
    """A placement rule: which cases of a book to place. Empty lists and
    ``None`` bounds mean "any"; the balance band is inclusive."""

    buckets: list[str] = field(default_factory=list)
    min_balance: Decimal | None = None
    max_balance: Decimal | None = None
    regions: list[str] = field(default_factory=list)
    product_ids: list[int] = field(default_factory=list)


def _balance_expression():
    """The collectible total of a case's active debts, for ``annotate``."""
    active = Q(debts__status__in=ACTIVE)
    zero = Value(ZERO, output_field=DecimalField(max_digits=18, decimal_places=2))
    parts = [Coalesce(Sum(f"debts__{c}_balance", filter=active), zero) for c in OWED_COMPONENTS]
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total


def cases_matching(criteria: PlacementCriteria, *, cases: QuerySet | None = None) -> QuerySet:
    """Open cases with a collectible debt, not placed, not on hold, not in
    legal, that match ``criteria`` (bucket of any collectible debt, balance
    band of the collectible total, the customer's region, product)."""
    cases = CollectionCase.objects.all() if cases is None else cases
    open_placement = AgencyPlacement.objects.filter(case=OuterRef("pk"), status=AgencyPlacement.Status.OPEN)
    collectible = Debt.objects.filter(case=OuterRef("pk"), status__in=ACTIVE)
    if criteria.buckets:
        collectible = collectible.filter(bucket__in=criteria.buckets)
    if criteria.product_ids:
        collectible = collectible.filter(product_id__in=criteria.product_ids)
    rows = (
        cases.exclude(stage__in=[CollectionCase.Stage.CLOSED, CollectionCase.Stage.LEGAL])
        .filter(holds=[])
        .filter(Exists(collectible))
        .exclude(Exists(open_placement))
    )
    if criteria.regions:
        rows = rows.filter(customer__region__in=criteria.regions)
    if criteria.min_balance is not None or criteria.max_balance is not None:
        rows = rows.annotate(collectible_balance=_balance_expression())
        if criteria.min_balance is not None:
            rows = rows.filter(collectible_balance__gte=criteria.min_balance)
        if criteria.max_balance is not None:
            rows = rows.filter(collectible_balance__lte=criteria.max_balance)
    return rows.order_by("id")


def _case_money(case_ids: list[int]) -> dict[int, tuple[Decimal, str]]:
    """Collectible balance and currency of each case's active debts."""
    money: dict[int, tuple[Decimal, str]] = {}
    for debt in Debt.objects.filter(case_id__in=case_ids, status__in=ACTIVE).order_by("id"):
        balance = sum((debt.balance(c) for c in OWED_COMPONENTS), ZERO)
        total, currency = money.get(debt.case_id, (ZERO, debt.currency))
        money[debt.case_id] = (total + balance, currency)
    return money


def _refusal(
    case: CollectionCase, *, start_on: date, previous_end: date | None, has_open: bool
) -> str | None:
    if has_open:
        return "already placed with an agency"
    if case.stage == CollectionCase.Stage.CLOSED:
        return "closed"
    if case.stage == CollectionCase.Stage.LEGAL:
        return "in legal"
    if case.holds:
        return f"on hold ({', '.join(case.holds)})"
    if previous_end is not None and start_on <= previous_end:
        return f"its last placement ended on {previous_end}; start after it"
    return None


def place_with_agency(
    *,
    cases,
    agency: Agency,
    start_on: date,
    end_on: date,
    actor,
    reason: str,
    instructions: str = "",
    share_contact_history: bool = False,
) -> list[AgencyPlacement]:
    """Place each of ``cases`` (a queryset or ids) with ``agency`` for
    ``start_on``…``end_on`` (both included); return the placements.

    ``NotAllowed`` (409) unless ``actor`` supervises agencies;
    ``ValidationError`` (400) for an inactive agency, a bad period, no
    cases or a bucket the agency has no rate for; ``Conflict`` (409) when a
    case is closed, in legal, on hold, already placed or placed too
    recently. Nothing is written when it raises.
    """
    reason = clean_reason(reason)
    if not may_place_with_agencies(actor):
        raise NotAllowed({"agency": "Only supervisors place cases with agencies."})
    errors: dict[str, str] = {}
    if not isinstance(start_on, date) or not isinstance(end_on, date):
        errors["start_on"] = "Give the period's first and last day."
    elif end_on < start_on:
        errors["end_on"] = "The period cannot end before it starts."
    if agency is None or not agency.active:
        errors["agency"] = "This agency does not take new placements."
    case_ids = sorted(
        {c.pk if isinstance(c, CollectionCase) else int(c) for c in cases}
        if not isinstance(cases, QuerySet)
        else set(cases.values_list("pk", flat=True))
    )
    if not case_ids:
        errors["cases"] = "Select at least one case."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = list(CollectionCase.objects.select_for_update().filter(pk__in=case_ids).order_by("pk"))
        if len(locked) != len(case_ids):
            raise ValidationError({"cases": "Unknown case."})
        open_cases = set(
            AgencyPlacement.objects.filter(
                case_id__in=case_ids, status=AgencyPlacement.Status.OPEN
            ).values_list("case_id", flat=True)
        )
        previous_end: dict[int, date] = {}
        for case_id, closed_on in AgencyPlacement.objects.filter(case_id__in=case_ids).values_list(
            "case_id", "closed_on"
        ):
            if closed_on is not None and closed_on > previous_end.get(case_id, date.min):
                previous_end[case_id] = closed_on
        money = _case_money(case_ids)
        refused = {}
        for case in locked:
            why = _refusal(
                case,
                start_on=start_on,
                previous_end=previous_end.get(case.pk),
                has_open=case.pk in open_cases,
            )
            if why is None and case.pk not in money:
                why = "nothing left to collect"
            if why is not None:
                refused[case.pk] = why
        if refused:
            listed = "; ".join(f"case {pk}: {why}" for pk, why in sorted(refused.items()))
            raise Conflict({"cases": f"Nothing was placed. {listed}."})
        buckets = worst_buckets(case_ids)
        rates = dict(agency.commission_rates.values_list("bucket", "rate_percent"))
        missing = sorted({buckets[pk] for pk in case_ids if buckets[pk] not in rates})
        if missing:
            raise ValidationError(
                {"agency": f"{agency} has no commission rate for bucket(s) {', '.join(missing)}."}
            )
        placements = []
        for case in locked:
            balance, currency = money[case.pk]
            placement = AgencyPlacement(
                agency=agency,
                case=case,
                start_on=start_on,
                end_on=end_on,
                bucket=buckets[case.pk],
                balance_at_placement=balance,
                currency=currency,
                commission_rate=rates[buckets[case.pk]],
                instructions=instructions or "",
                share_contact_history=bool(share_contact_history),
                placed_by=actor,
            )
            record(placement, actor=actor, reason=reason)
            placement.save()
            placements.append(placement)
        return placements


def place_by_rule(
    *,
    criteria: PlacementCriteria,
    agency: Agency,
    start_on: date,
    end_on: date,
    actor,
    reason: str,
    instructions: str = "",
    share_contact_history: bool = False,
    limit: int | None = None,
) -> list[AgencyPlacement]:
    """Place every eligible case matching ``criteria`` (at most ``limit``)."""
    case_ids = list(cases_matching(criteria).values_list("pk", flat=True)[:limit])
    if not case_ids:
        raise ValidationError({"cases": "No eligible case matches the rule."})
    return place_with_agency(
        cases=case_ids,
        agency=agency,
        start_on=start_on,
        end_on=end_on,
        actor=actor,
        reason=reason,
        instructions=instructions,
        share_contact_history=share_contact_history,
    )


def _close(placement: AgencyPlacement, *, status: str, on: date, actor, reason: str, kind: str = "") -> None:
    placement.status = status
    placement.closed_on = max(on, placement.start_on)
    placement.recall_reason = kind
    placement.recall_note = reason if status == AgencyPlacement.Status.RECALLED else ""
    if status == AgencyPlacement.Status.RECALLED:
        placement.recalled_by = actor
        placement.recalled_at = timezone.now()
    record(placement, actor=actor, reason=reason[:100])
    placement.save()


def recall_placement(
    *,
    placement: AgencyPlacement | int,
    on: date,
    actor,
    reason: str,
    kind: str = AgencyPlacement.RecallReason.BY_HAND,
) -> AgencyPlacement:
    """Recall an open placement on ``on`` (the agency's last day) with a reason.

    ``NotAllowed`` unless a supervisor recalls by hand; ``Conflict`` when it
    is no longer open; ``ValidationError`` for an empty reason or a day
    before the placement started."""
    reason = clean_reason(reason)
    if kind not in AgencyPlacement.RecallReason.values:
        raise ValidationError({"kind": f"Unknown recall reason {kind!r}."})
    if kind == AgencyPlacement.RecallReason.BY_HAND and not may_place_with_agencies(actor):
        raise NotAllowed({"placement": "Only supervisors recall placements."})
    placement_id = placement.pk if isinstance(placement, AgencyPlacement) else placement
    with transaction.atomic():
        try:
            locked = AgencyPlacement.objects.select_for_update().get(pk=placement_id)
        except AgencyPlacement.DoesNotExist:
            raise ValidationError({"placement": "Unknown placement."}) from None
        if locked.status != AgencyPlacement.Status.OPEN:
            raise Conflict({"placement": f"The placement is already {locked.get_status_display().lower()}."})
        if not isinstance(on, date) or on < locked.start_on:
            raise ValidationError({"on": "A placement cannot be recalled before it started."})
        _close(locked, status=AgencyPlacement.Status.RECALLED, on=on, actor=actor, reason=reason, kind=kind)
        return locked


def recall_case_placement(*, case_id: int, on: date, kind: str, actor, reason: str) -> AgencyPlacement | None:
    """Recall the case's open placement, if any (the hooks in the dispute and
    payment services call this). Returns the recalled placement or ``None``."""
    with transaction.atomic():
        placement = (
            AgencyPlacement.objects.select_for_update()
            .filter(case_id=case_id, status=AgencyPlacement.Status.OPEN)
            .first()
        )
        if placement is None:
            return None
        _close(
            placement, status=AgencyPlacement.Status.RECALLED, on=on, actor=actor, reason=reason, kind=kind
        )
        return placement


def recall_if_paid_in_full(*, case_id: int | None, on: date, actor) -> AgencyPlacement | None:
    """After money moved: recall the case's placement once none of its debts
    is still collectible (paid, settled)."""
    if case_id is None:
        return None
    if Debt.objects.filter(case_id=case_id, status__in=ACTIVE).exists():
        return None
    return recall_case_placement(
        case_id=case_id,
        on=on,
        kind=AgencyPlacement.RecallReason.PAID_IN_FULL,
        actor=actor,
        reason="recalled: paid in full",
    )


@dataclass(frozen=True)
class NightlyResult:
    expired: int
    recalled_dispute: int
    recalled_paid: int
    recalled_closed: int = 0


def close_placements(*, business_date: date, actor) -> NightlyResult:
    """The end-of-day step: expire placements whose period is over, recall
    those whose case is disputed or has nothing left to collect. Idempotent:
    a second run for the same date finds nothing open to change."""
    with transaction.atomic():
        base = AgencyPlacement.objects.select_for_update().filter(status=AgencyPlacement.Status.OPEN)
        disputed = Q(case__holds__icontains=f'"{Hold.DISPUTE}"') | Exists(
            Dispute.objects.filter(case=OuterRef("case_id"), status=Dispute.Status.OPEN)
        )
        nothing_left = ~Exists(Debt.objects.filter(case=OuterRef("case_id"), status__in=ACTIVE))
        given_up = Exists(
            Debt.objects.filter(
                case=OuterRef("case_id"), status__in=[Debt.Status.WRITTEN_OFF, Debt.Status.RECALLED]
            )
        )
        counts = {"dispute": 0, "paid": 0, "closed": 0, "expired": 0}
        # In this order: a disputed case is recalled for the dispute even when
        # nothing is left to collect (each query sees the earlier closes).
        recalls = (
            ("dispute", disputed, "recalled: dispute on the case", AgencyPlacement.RecallReason.DISPUTE),
            (
                "paid",
                nothing_left & ~given_up,
                "recalled: paid in full",
                AgencyPlacement.RecallReason.PAID_IN_FULL,
            ),
            (
                "closed",
                nothing_left & given_up,
                "recalled: nothing left to collect",
                AgencyPlacement.RecallReason.CASE_CLOSED,
            ),
        )
        for key, condition, reason, kind in recalls:
            for placement in base.filter(condition).order_by("id"):
                _close(
                    placement,
                    status=AgencyPlacement.Status.RECALLED,
                    on=business_date,
                    actor=actor,
                    reason=reason,
                    kind=kind,
                )
                counts[key] += 1
        for placement in base.filter(end_on__lte=business_date).order_by("id"):
            _close(
                placement,
                status=AgencyPlacement.Status.EXPIRED,
                on=placement.end_on,
                actor=actor,
                reason="placement period ended",
            )
            counts["expired"] += 1
    return NightlyResult(
        expired=counts["expired"],
        recalled_dispute=counts["dispute"],
        recalled_paid=counts["paid"],
        recalled_closed=counts["closed"],
    )


AGENCY_FIELDS = ("name", "licence_number", "contact_name", "phone", "email", "address", "active")


def save_agency(
    *, actor, reason: str, agency: Agency | None = None, fields: dict, rates: dict[str, Decimal] | None = None
) -> Agency:
    """Create (``agency=None``) or change an agency and, when ``rates`` is
    given, replace its commission rates by bucket (percent).

    ``NotAllowed`` unless ``actor`` supervises agencies; ``ValidationError``
    per field (``full_clean``) for bad values or a rate outside 0–100.
    Placements already made keep the rate they were made with.
    """
    reason = clean_reason(reason)
    if not may_place_with_agencies(actor):
        raise NotAllowed({"agency": "Only supervisors change agencies."})
    unknown = sorted(set(fields) - set(AGENCY_FIELDS))
    if unknown:
        raise ValidationError({name: "Unknown field." for name in unknown})
    with transaction.atomic():
        row = Agency() if agency is None else Agency.objects.select_for_update().get(pk=agency.pk)
        for name, value in fields.items():
            setattr(row, name, value)
        row.full_clean()
        record(row, actor=actor, reason=reason)
        row.save()
        if rates is not None:
            _replace_rates(row, rates, actor=actor, reason=reason)
        return row


def _replace_rates(agency: Agency, rates: dict[str, Decimal], *, actor, reason: str) -> None:
    from cases.agencies.models import AgencyCommissionRate

    errors = {}
    for bucket, value in rates.items():
        if not bucket or len(bucket) > 8:
            errors[f"commission_rates.{bucket}"] = "Name the bucket (M1 … M6+)."
        elif value is None or not (Decimal("0") <= Decimal(value) <= Decimal("100")):
            errors[f"commission_rates.{bucket}"] = "A commission rate is a percent between 0 and 100."
    if errors:
        raise ValidationError({"commission_rates": list(errors.values())})
    current = {r.bucket: r for r in agency.commission_rates.all()}
    for bucket, row in current.items():
        if bucket not in rates:
            record(row, actor=actor, reason=reason)
            row.delete()
    for bucket, value in rates.items():
        row = current.get(bucket) or AgencyCommissionRate(agency=agency, bucket=bucket)
        if row.pk is not None and row.rate_percent == Decimal(value):
            continue
        row.rate_percent = Decimal(value)
        record(row, actor=actor, reason=reason)
        row.save()
