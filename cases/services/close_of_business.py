"""Close of business (RULES.md §1 and §2).

For a business date D, every open or charged-off debt is brought from the
day after its ``closed_through`` up to D, one date at a time, in this order
within each date: payments received that day count first, then the interest
of instalments due that day is charged, the debt is aged (DPD, bucket, DOFD),
penalty interest accrues, late fees are charged and the debt is charged off.

Work is done per chunk of debt ids in one transaction that locks the chunk's
debt rows, so a payment posted meanwhile waits and is seen whole. A debt's
``closed_through`` only moves forward, which makes a second run for the same
date a no-op and a run after a gap a catch-up that gives the same ledger as
running every day. Amounts are computed in Python with ``Decimal`` (exact on
every database, including SQLite) and written with set-based statements.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum

from backoffice.audit import system_user
from backoffice.bulk import copy_history, update_rows
from backoffice.money import ZERO, round_down, round_half_up
from cases.models import CollectionPolicy, Debt, Instalment, LedgerEntry, Product

SOURCE = "close_of_business"
COST_COMPONENTS = ("interest", "penalty", "fees")
COST_KINDS = (LedgerEntry.Kind.CHARGE, LedgerEntry.Kind.ACCRUAL)
AUDITED_FIELDS = ["status", "bucket", "date_of_first_delinquency", "delinquent_30_on", "charged_off_on"]
CACHED_FIELDS = [
    "days_past_due",
    "closed_through",
    "interest_balance",
    "penalty_balance",
    "fees_balance",
]


@dataclass
class CobSummary:
    business_date: date
    debts: int = 0
    entries: int = 0
    penalty: Decimal = ZERO
    fees: Decimal = ZERO
    interest: Decimal = ZERO
    charged_off: int = 0

    def add(self, other: "CobSummary") -> None:
        self.debts += other.debts
        self.entries += other.entries
        self.penalty += other.penalty
        self.fees += other.fees
        self.interest += other.interest
        self.charged_off += other.charged_off

    def as_dict(self) -> dict:
        return {
            "business_date": self.business_date.isoformat(),
            "debts": self.debts,
            "entries": self.entries,
            "penalty": str(self.penalty),
            "fees": str(self.fees),
            "interest": str(self.interest),
            "charged_off": self.charged_off,
        }


def pending_debts(business_date: date):
    """Debts that close of business for ``business_date`` still has to do."""
    return Debt.objects.filter(status__in=Debt.ACTIVE_STATUSES).filter(
        Q(closed_through__isnull=True) | Q(closed_through__lt=business_date),
        opened_on__lte=business_date,
    )


def id_ranges(business_date: date, chunk_size: int | None = None) -> list[tuple[int, int]]:
    """Split the pending debts into inclusive id ranges of about ``chunk_size``."""
    size = chunk_size or settings.COB_CHUNK_SIZE
    ids = list(pending_debts(business_date).order_by("id").values_list("id", flat=True))
    return [(ids[i], ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)]


def run_close_of_business(*, business_date: date, actor=None, chunk_size: int | None = None) -> CobSummary:
    """Close every pending debt through ``business_date`` in this process."""
    from cases.services.end_of_day import finish_business_day

    summary = CobSummary(business_date)
    for first_id, last_id in id_ranges(business_date, chunk_size):
        summary.add(close_chunk(first_id=first_id, last_id=last_id, business_date=business_date, actor=actor))
    finish_business_day(business_date=business_date, actor=actor)
    return summary


@dataclass
class _InstalmentState:
    """An instalment's balances as of the date being closed."""

    row: Instalment
    principal: Decimal
    interest: Decimal
    was_overdue_past_grace: bool = False
    late_fee_done: bool = False

    @property
    def owed(self) -> Decimal:
        return self.principal + self.interest


@dataclass
class _DebtWork:
    debt: Debt
    policy: CollectionPolicy
    start: date
    instalments: list[_InstalmentState]
    cost_before: Decimal = ZERO
    later_inst: dict = field(default_factory=lambda: defaultdict(list))
    later_cost: dict = field(default_factory=lambda: defaultdict(lambda: ZERO))
    new_entries: list = field(default_factory=list)
    inst_changed: set = field(default_factory=set)
    # Instalments whose interest a payment on their due date already charged.
    interest_charged: set = field(default_factory=set)


def close_chunk(*, first_id: int, last_id: int, business_date: date, actor=None) -> CobSummary:
    """Close the pending debts with ids in ``[first_id, last_id]``; one transaction."""
    actor = actor or system_user()
    reason = f"close of business {business_date.isoformat()}"
    summary = CobSummary(business_date)
    with transaction.atomic():
        debts = list(
            pending_debts(business_date)
            .filter(id__gte=first_id, id__lte=last_id)
            .select_for_update(of=("self",))
            .order_by("id")
        )
        if not debts:
            return summary
        works = _load(debts)
        for work in works:
            _close_debt(work, business_date, summary)
        _write(works, actor=actor, reason=reason, summary=summary)
    return summary


def _start(debt: Debt) -> date:
    return debt.closed_through + timedelta(days=1) if debt.closed_through else debt.opened_on


def _load(debts: list[Debt]) -> list[_DebtWork]:
    """Read everything the chunk needs in a handful of queries."""
    ids = [d.pk for d in debts]
    earliest = min(_start(d) for d in debts)
    inst_by_debt: dict[int, list[Instalment]] = defaultdict(list)
    for inst in Instalment.objects.filter(debt_id__in=ids).order_by("debt_id", "due_on", "number"):
        inst_by_debt[inst.debt_id].append(inst)
    # Entries dated on or after a debt's first date to close: they must count
    # only from their own date on (a payment received on the 10th does not
    # reduce the overdue principal of the 9th).
    later = LedgerEntry.objects.filter(debt_id__in=ids, effective_on__gte=earliest).values_list(
        "debt_id", "instalment_id", "component", "kind", "amount", "effective_on"
    )
    cost_before = dict(
        LedgerEntry.objects.filter(
            debt_id__in=ids,
            effective_on__lt=earliest,
            component__in=COST_COMPONENTS,
            kind__in=COST_KINDS,
        )
        .values("debt_id")
        .annotate(total=Sum("amount"))
        .values_list("debt_id", "total")
    )
    late_fee_done = set(
        LedgerEntry.objects.filter(debt_id__in=ids, idempotency_key__startswith="late_fee:").values_list(
            "instalment_id", flat=True
        )
    )
    # A chunk has few products: load each policy once, not once per debt.
    policies = {
        product.pk: product.policy
        for product in Product.objects.filter(pk__in={d.product_id for d in debts}).select_related("policy")
    }
    works: dict[int, _DebtWork] = {}
    for debt in debts:
        debt.history_snapshot = tuple(getattr(debt, f) for f in AUDITED_FIELDS)
        states = [
            _InstalmentState(
                row=i,
                principal=i.principal_balance,
                interest=i.interest_balance,
                late_fee_done=i.pk in late_fee_done,
            )
            for i in inst_by_debt[debt.pk]
        ]
        works[debt.pk] = _DebtWork(
            debt=debt,
            policy=policies[debt.product_id],
            start=_start(debt),
            instalments=states,
            # SQLite sums decimals as floats; every entry is whole cents.
            cost_before=round_half_up(Decimal(str(cost_before.get(debt.pk) or 0))),
        )
    for debt_id, inst_id, component, kind, amount, effective_on in later:
        work = works[debt_id]
        is_cost = component in COST_COMPONENTS and kind in COST_KINDS
        if effective_on < work.start:
            if is_cost:
                work.cost_before += amount
            continue
        if inst_id is not None and component in ("principal", "interest"):
            if component == "interest" and kind == LedgerEntry.Kind.CHARGE:
                work.interest_charged.add(inst_id)
            work.later_inst[effective_on].append((inst_id, component, amount))
            # Wind the instalment back to the day before the first date to close.
            for state in work.instalments:
                if state.row.pk == inst_id:
                    setattr(state, component, getattr(state, component) - amount)
        if is_cost:
            work.later_cost[effective_on] += amount
    for work in works.values():
        day_before = work.start - timedelta(days=1)
        for state in work.instalments:
            state.was_overdue_past_grace = _overdue_past_grace(state, day_before, work.policy)
    return list(works.values())


def _overdue(state: _InstalmentState, day: date, policy: CollectionPolicy) -> bool:
    return state.row.due_on < day and state.owed > policy.tolerance


def _overdue_past_grace(state: _InstalmentState, day: date, policy: CollectionPolicy) -> bool:
    return _overdue(state, day, policy) and (day - state.row.due_on).days > policy.grace_days


def _allowed_cost(debt: Debt, policy: CollectionPolicy, day: date) -> Decimal | None:
    """RULES §2 cost cap; ``None`` when the policy has no cap."""
    if policy.cost_cap_annual_rate is None:
        return None
    days = (day - debt.opened_on).days
    return round_down(debt.original_principal * policy.cost_cap_annual_rate * days / Decimal(365))


def _close_debt(work: _DebtWork, business_date: date, summary: CobSummary) -> None:
    debt, policy = work.debt, work.policy
    by_pk = {s.row.pk: s for s in work.instalments}
    cost = work.cost_before
    day = work.start
    while day <= business_date:
        # 1. Entries already on the ledger for this day (payments, reversals…).
        for inst_id, component, amount in work.later_inst.get(day, ()):
            state = by_pk[inst_id]
            setattr(state, component, getattr(state, component) + amount)
        cost += work.later_cost.get(day, ZERO)
        # 2. Contractual interest of the instalments due today.
        for state in work.instalments:
            if (
                state.row.due_on == day
                and state.row.interest > 0
                and state.row.pk not in work.interest_charged
            ):
                state.interest += state.row.interest
                cost += state.row.interest
                work.inst_changed.add(state.row.pk)
                summary.interest += state.row.interest
                _entry(
                    work,
                    "interest",
                    state.row.interest,
                    LedgerEntry.Kind.CHARGE,
                    day,
                    f"interest:{debt.pk}:{state.row.number}",
                    state.row,
                )
        # 3. Ageing.
        overdue = [s for s in work.instalments if _overdue(s, day, policy)]
        dpd = (day - overdue[0].row.due_on).days if overdue else 0
        debt.days_past_due = dpd
        debt.bucket = policy.bucket_for(dpd)
        if dpd == 0:
            debt.date_of_first_delinquency = None
            debt.delinquent_30_on = None
        else:
            if debt.date_of_first_delinquency is None:
                debt.date_of_first_delinquency = day - timedelta(days=dpd - 1)
            if dpd >= 30 and debt.delinquent_30_on is None:
                debt.delinquent_30_on = day - timedelta(days=dpd - 30)
        allowed = _allowed_cost(debt, policy, day)
        # 4. Penalty interest, outside the grace period only (no back-dating).
        accrues = debt.status == Debt.Status.OPEN or policy.accrue_after_charge_off
        if dpd > policy.grace_days and policy.penalty_daily_rate > 0 and accrues:
            base = sum((s.principal for s in overdue), ZERO)
            if policy.penalty_base == CollectionPolicy.PenaltyBase.PRINCIPAL_AND_INTEREST:
                base += sum((s.interest for s in overdue), ZERO)
            amount = _capped(round_half_up(base * policy.penalty_daily_rate), allowed, cost)
            if amount > 0:
                cost += amount
                summary.penalty += amount
                _entry(
                    work,
                    "penalty",
                    amount,
                    LedgerEntry.Kind.ACCRUAL,
                    day,
                    f"penalty:{debt.pk}:{day.isoformat()}",
                )
        # 5. Late fees, once per missed instalment, on the first day past grace.
        for state in work.instalments:
            past_grace = _overdue_past_grace(state, day, policy)
            if past_grace and not state.was_overdue_past_grace and not state.late_fee_done:
                fee = _late_fee(policy, state.row)
                state.late_fee_done = True
                fee = _capped(fee, allowed, cost)
                if fee > 0:
                    cost += fee
                    summary.fees += fee
                    _entry(
                        work,
                        "fees",
                        fee,
                        LedgerEntry.Kind.CHARGE,
                        day,
                        f"late_fee:{debt.pk}:{state.row.number}",
                        state.row,
                    )
            state.was_overdue_past_grace = past_grace
        # 6. Charge-off.
        if debt.status == Debt.Status.OPEN and dpd >= policy.charge_off_dpd:
            debt.status = Debt.Status.CHARGED_OFF
            debt.charged_off_on = day
            summary.charged_off += 1
        day += timedelta(days=1)
    debt.closed_through = business_date
    summary.debts += 1


def interest_due_specs(*, debt: Debt, instalments: list[Instalment], day: date) -> list:
    """Interest entries for instalments falling due on ``day`` not yet charged.

    A payment received on a due date pays that day's instalment in full
    (RULES §2: close of business sees the day's payments first, but an
    on-time payer must not end the day owing the interest just charged), so
    posting it charges that interest first under the same key close of
    business would use; close of business then finds it charged.
    """
    from cases.services.ledger import EntrySpec

    due = [i for i in instalments if i.due_on == day and i.interest > 0]
    if not due:
        return []
    keys = {f"interest:{debt.pk}:{i.number}": i for i in due}
    done = set(LedgerEntry.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True))
    return [
        EntrySpec(
            component="interest",
            amount=inst.interest,
            kind=LedgerEntry.Kind.CHARGE,
            effective_on=day,
            key=key,
            source=SOURCE,
            instalment=inst,
        )
        for key, inst in keys.items()
        if key not in done
    ]


def _capped(amount: Decimal, allowed: Decimal | None, cost: Decimal) -> Decimal:
    if allowed is None:
        return amount
    return max(ZERO, min(amount, allowed - cost))


def _late_fee(policy: CollectionPolicy, instalment: Instalment) -> Decimal:
    fee = policy.late_fee_fixed + round_half_up(instalment.amount * policy.late_fee_percent / 100)
    if policy.late_fee_cap is not None:
        fee = min(fee, policy.late_fee_cap)
    return fee


def _entry(work: _DebtWork, component, amount, kind, day, key, instalment=None) -> None:
    work.new_entries.append(
        LedgerEntry(
            debt=work.debt,
            instalment=instalment,
            component=component,
            amount=amount,
            effective_on=day,
            kind=kind,
            source=SOURCE,
            idempotency_key=key,
        )
    )


def _write(works: list[_DebtWork], *, actor, reason: str, summary: CobSummary) -> None:
    entries = []
    changed_debts = []
    plain_debts = []
    changed_instalments = []
    for work in works:
        debt = work.debt
        for entry in work.new_entries:
            entry.reason = reason
            entry.created_by = actor
            setattr(
                debt, f"{entry.component}_balance", getattr(debt, f"{entry.component}_balance") + entry.amount
            )
        entries.extend(work.new_entries)
        for state in work.instalments:
            if state.row.pk in work.inst_changed:
                # Balances on the row move by exactly the entries written now.
                added = sum(
                    (
                        e.amount
                        for e in work.new_entries
                        if e.instalment_id == state.row.pk and e.component == "interest"
                    ),
                    ZERO,
                )
                state.row.interest_balance += added
                changed_instalments.append(state.row)
        before = debt.history_snapshot
        after = tuple(getattr(debt, f) for f in AUDITED_FIELDS)
        (changed_debts if before != after else plain_debts).append(debt)
    if entries:
        LedgerEntry.objects.bulk_create(entries, batch_size=5000)
        copy_history(LedgerEntry, entries, history_type="+", user=actor, reason=reason)
        summary.entries += len(entries)
    update_rows(Debt, changed_debts + plain_debts, AUDITED_FIELDS + CACHED_FIELDS)
    copy_history(Debt, changed_debts, history_type="~", user=actor, reason=reason)
    update_rows(Instalment, changed_instalments, ["interest_balance"])
