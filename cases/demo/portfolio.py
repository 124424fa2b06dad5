"""A demo portfolio: customers, debts, payments and closes of business.

``build_demo_portfolio`` makes a book that looks lived-in on a fixed
business date: every ageing bucket (current, M1 … M6, M6+) and every debt
status (open, charged off, paid, settled, written off, recalled) appear,
with schedules, on-time and partial payments, penalty interest and
charge-offs produced by the real services, not written by hand.

How it stays honest and fast:

- Debts are placed with ``place_debt``, payments posted with
  ``post_payment``, ageing and accruals come from ``run_close_of_business``.
- Each debt's story is a list of dated events (instalments paid on their
  due date, partial payments, pay-offs, settlements, write-offs, recalls).
  Before an event the debt is closed through the event's day, so a payment
  is posted only after that day's interest was charged, as in production;
  one close of business for the business date then brings every debt up to
  date. Loans fall due on the 5th or the 20th (a fixed repayment day).
- Settlements, write-offs and recalls have no service yet: their ledger
  entries go through ``cases.services.ledger.apply_entries`` on a locked
  debt, and the status change is recorded with ``backoffice.audit.record``.
- Customers, contact points and third parties are bulk-inserted with their
  history rows (``bulk_create_with_history``).
- Calls and promises on delinquent debts are written behind the payments
  (``contact_history``) so the risk model has honest signal to learn: a
  customer who will pay was reachable and kept a promise first; one who
  never pays mostly was not reached (no answer, wrong number) and the
  promises they made were broken. A risk model is then trained on the
  book's own history (``cases.services.risk``) and the cases are scored.

Everything is drawn from one ``random.Random(seed)``; Faker is seeded from
it, so the same seed and business date give the same book.
"""

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

import phonenumbers
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from faker import Faker
from simple_history.utils import bulk_create_with_history, bulk_update_with_history
from tqdm import tqdm

from backoffice import roles
from backoffice.audit import record, system_user
from backoffice.money import ZERO, to_money
from cases.models import (
    OWED_COMPONENTS,
    CollectionCase,
    CollectionPolicy,
    ContactAttempt,
    Creditor,
    Debt,
    LedgerEntry,
    Payment,
    Product,
    PromiseToPay,
    Team,
)
from cases.policy_presets import preset
from cases.services.close_of_business import close_chunk, run_close_of_business
from cases.services.dunning import install_default_ladder
from cases.services.ledger import EntrySpec, apply_entries, lock_debt
from cases.services.payments import post_payment
from cases.services.placement import place_debt
from cases.services.risk import score_debts, train_and_activate
from customers.models import ContactPoint, Customer, ThirdPartyContact

DEMO_PASSWORD = "ledgerline-demo"
DEMO_CREDITOR_CODES = ("DEMO-CN", "DEMO-US")
REASON = "demo portfolio"
REPAYMENT_DAYS = (5, 20)
# Close of business catches up from each debt's opening date; keeping the
# book within this window keeps the seed fast.
HISTORY_DAYS = 400

# (username, role, superuser)
DEMO_USERS = (
    ("collector", roles.COLLECTOR, False),
    ("collector2", roles.COLLECTOR, False),
    ("teamlead", roles.TEAM_LEAD, False),
    ("legal", roles.LEGAL, False),
    ("compliance", roles.COMPLIANCE, False),
    ("supervisor", roles.SUPERVISOR, False),
    ("finance", roles.PAYMENTS, False),
    ("admin", roles.ADMINISTRATOR, True),
)

# Scenario → (lowest, highest) days past due of the first unpaid instalment
# on the business date; ``None`` means it falls due after the business date.
DELINQUENT = {
    "m1": (1, 30),
    "m2": (31, 60),
    "m3": (61, 90),
    "m4": (91, 120),
    "m5": (121, 150),
    "m6": (151, 179),
    "m6plus": (181, 360),
    "settled": (40, 300),
    "written_off": (215, 360),
    "recalled": (30, 200),
}
# How often each scenario is drawn, by jurisdiction, after every scenario
# has appeared once. A young book, as most are. Long delinquencies are kept
# mostly on the US book: a CN debt overdue past its grace days writes one
# penalty entry a day, which is what makes close of business slow to seed.
WEIGHTS = {
    "CN": {
        "new": 36,
        "current": 14,
        "paid": 8,
        "m1": 16,
        "m2": 8,
        "m3": 5,
        "m4": 3,
        "m5": 2,
        "m6": 2,
        "m6plus": 2,
        "settled": 2,
        "written_off": 1,
        "recalled": 1,
    },
    "US": {
        "new": 20,
        "current": 10,
        "paid": 6,
        "m1": 10,
        "m2": 8,
        "m3": 7,
        "m4": 6,
        "m5": 5,
        "m6": 5,
        "m6plus": 12,
        "settled": 4,
        "written_off": 4,
        "recalled": 3,
    },
}
# Contractual interest per month on the original principal. The CN rate sits
# at the 24 %/year cost cap, so penalty interest is capped while instalments
# keep falling due (RULES §2) and resumes after the last due date.
MONTHLY_RATE = {"CN": Decimal("0.02"), "US": Decimal("0.015")}

US_AREAS = {
    "415": ("CA", "America/Los_Angeles"),
    "213": ("CA", "America/Los_Angeles"),
    "206": ("WA", "America/Los_Angeles"),
    "646": ("NY", "America/New_York"),
    "617": ("MA", "America/New_York"),
    "312": ("IL", "America/Chicago"),
    "713": ("TX", "America/Chicago"),
    "602": ("AZ", "America/Phoenix"),
}
CN_MOBILE_PREFIXES = (
    "130",
    "131",
    "132",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "158",
    "186",
    "188",
)


@dataclass
class DemoSummary:
    business_date: date
    customers: int = 0
    debts: int = 0
    payments: int = 0
    statuses: dict = field(default_factory=dict)
    buckets: dict = field(default_factory=dict)
    contacts: int = 0
    promises: int = 0
    risk_model: str = "none (too little history: scorecard)"


@dataclass
class _Plan:
    """One debt's story: its schedule and the dated things that happen to it."""

    customer: Customer
    product: Product
    scenario: str
    opened_on: date
    schedule: list[dict]
    first_due: date
    events: list[tuple[date, str, object]] = field(default_factory=list)
    debt: Debt | None = None


def demo_exists() -> bool:
    return Creditor.objects.filter(short_code__in=DEMO_CREDITOR_CODES).exists()


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, day.day)


def _repayment_days(start: date, end: date) -> list[date]:
    """Every 5th and 20th from ``start`` to ``end`` inclusive."""
    days = []
    cursor = date(start.year, start.month, 1)
    while cursor <= end:
        for d in REPAYMENT_DAYS:
            day = cursor.replace(day=d)
            if start <= day <= end:
                days.append(day)
        cursor = _add_months(cursor, 1)
    return days


class _People:
    """Faker-made customers with phones that ``phonenumbers`` accepts."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.cn = Faker("zh_CN")
        self.us = Faker("en_US")
        self.cn.seed_instance(rng.randrange(2**32))
        self.us.seed_instance(rng.randrange(2**32))
        self.used_ids: set[str] = set()

    def _valid(self, number: str) -> str | None:
        parsed = phonenumbers.parse(number, None)
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        return None

    def cn_mobile(self) -> str:
        while True:
            prefix = self.rng.choice(CN_MOBILE_PREFIXES)
            number = self._valid(f"+86{prefix}{self.rng.randrange(10**8):08d}")
            if number:
                return number

    def us_phone(self, area: str) -> str:
        while True:
            exchange = self.rng.randrange(200, 1000)
            if exchange % 100 == 11 or exchange == 555:
                continue
            number = self._valid(f"+1{area}{exchange}{self.rng.randrange(10**4):04d}")
            if number:
                return number

    def national_id(self, faker: Faker) -> str:
        while True:
            value = faker.ssn()
            if value not in self.used_ids:
                self.used_ids.add(value)
                return value

    def customer(self, jurisdiction: str) -> tuple[Customer, list[ContactPoint], list[ThirdPartyContact]]:
        rng = self.rng
        company = rng.random() < 0.08
        if jurisdiction == "CN":
            faker = self.cn
            region, time_zone, language = faker.province(), "Asia/Shanghai", "zh-hans"
            phone = self.cn_mobile
        else:
            faker = self.us
            area = rng.choice(list(US_AREAS))
            region, time_zone = US_AREAS[area]
            language = "en" if rng.random() < 0.9 else "zh-hans"
            phone = lambda: self.us_phone(area)  # noqa: E731
        if rng.random() < 0.05:
            time_zone = None
        customer = Customer(
            kind=Customer.Kind.COMPANY if company else Customer.Kind.PERSON,
            name=faker.company() if company else faker.name(),
            national_id=self.national_id(faker),
            date_of_birth=None if company else faker.date_of_birth(minimum_age=21, maximum_age=70),
            preferred_language=language,
            jurisdiction=jurisdiction,
            region=region,
            time_zone=time_zone,
        )
        points = []
        for n in range(rng.choice((1, 1, 2, 2, 3))):
            points.append(
                ContactPoint(
                    kind=ContactPoint.Kind.PHONE,
                    value=phone(),
                    label="mobile" if n == 0 else rng.choice(("home", "work", "mobile")),
                    is_workplace=n > 0 and rng.random() < 0.2,
                    verified=rng.random() < 0.7,
                    primary=n == 0,
                    do_not_contact=n > 0 and rng.random() < 0.05,
                )
            )
        if rng.random() < 0.8:
            points.append(
                ContactPoint(kind=ContactPoint.Kind.EMAIL, value=faker.email(), verified=rng.random() < 0.5)
            )
        points.append(ContactPoint(kind=ContactPoint.Kind.ADDRESS, value=faker.address().replace("\n", ", ")))
        unique = {}
        for point in points:
            unique.setdefault((point.kind, point.value), point)
        third = [
            ThirdPartyContact(
                relationship=rng.choice(ThirdPartyContact.Relationship.values),
                name=faker.name(),
                phone=phone(),
            )
            for _ in range(rng.choice((0, 1, 1, 2)))
        ]
        return customer, list(unique.values()), third


def _scenarios(rng: random.Random, jurisdictions: list[str]) -> list[str]:
    """Every scenario once (shuffled), then weighted draws per jurisdiction."""
    first = list(WEIGHTS["CN"])
    rng.shuffle(first)
    drawn = first[: len(jurisdictions)]
    for jurisdiction in jurisdictions[len(drawn) :]:
        names, weights = zip(*WEIGHTS[jurisdiction].items(), strict=True)
        drawn.append(rng.choices(names, weights=weights)[0])
    return drawn


def _schedule(rng: random.Random, *, first_due: date, count: int, total: Decimal, monthly_rate: Decimal):
    principal = (total / count).quantize(Decimal("0.01"))
    interest = (total * monthly_rate).quantize(Decimal("0.01"))
    lines = []
    for n in range(count):
        amount = principal if n < count - 1 else total - principal * (count - 1)
        lines.append({"due_on": _add_months(first_due, n), "principal": amount, "interest": interest})
    return lines


def _plan_debt(rng, *, customer, product, scenario: str, business_date: date, grid: list[date]) -> _Plan:
    """Choose dates so the debt ends in the scenario's bucket and status.

    ``grid``: the repayment days up to the business date, which is its last
    element; every dated event falls on one of them.
    """
    earliest = business_date - timedelta(days=HISTORY_DAYS)
    future = _repayment_days(business_date + timedelta(days=1), business_date + timedelta(days=45))
    if scenario in DELINQUENT:
        low, high = DELINQUENT[scenario]
        choices = [d for d in grid if low <= (business_date - d).days <= high]
        first_unpaid = rng.choice(choices)
    else:
        first_unpaid = future[0] if scenario == "new" else rng.choice(future[:2])
    # Instalments paid on time before the first unpaid one.
    # Instalments paid on time before the first unpaid one. Kept short: a
    # young book, and each one is a payment to post.
    if scenario == "new":
        paid_before = 0
    elif scenario in ("paid", "current"):
        paid_before = rng.choice((1, 1, 2))
    else:
        # Most placed accounts never paid (first-payment default).
        paid_before = rng.choice((0, 0, 0, 1, 2))
    while paid_before > 0 and _add_months(first_unpaid, -paid_before) - timedelta(days=40) < earliest:
        paid_before -= 1
    first_due = _add_months(first_unpaid, -paid_before)
    opened_on = min(
        first_due - timedelta(days=rng.randint(20, 40)), business_date - timedelta(days=rng.randint(1, 9))
    )
    # Agencies mostly receive one balance due on one date; some accounts
    # come with the rest of their instalment schedule.
    count = paid_before + rng.choice((1, 1, 2, 3, 6))
    jurisdiction = product.policy.jurisdiction
    if jurisdiction == "CN":
        total = Decimal(rng.randrange(3_000, 50_000, 100))
    else:
        total = Decimal(rng.randrange(500, 15_000, 50))
    schedule = _schedule(
        rng, first_due=first_due, count=count, total=total, monthly_rate=MONTHLY_RATE[jurisdiction]
    )
    plan = _Plan(customer, product, scenario, opened_on, schedule, first_due)
    for line in schedule[:paid_before]:
        plan.events.append((line["due_on"], "cure", None))
    after = [d for d in grid if d > first_unpaid]
    if scenario == "paid":
        payoff_days = [d for d in grid if d >= first_due and d <= business_date]
        plan.events.append((rng.choice(payoff_days[-3:]) if payoff_days else business_date, "payoff", None))
    elif scenario == "settled":
        plan.events.append((rng.choice(after), "settle", Decimal(rng.choice((55, 60, 70, 80))) / 100))
    elif scenario == "written_off":
        late = [d for d in after if (d - first_unpaid).days > 185]
        plan.events.append((rng.choice(late), "write_off", None))
    elif scenario == "recalled":
        plan.events.append((rng.choice(after), "recall", None))
    elif scenario in ("m2", "m3", "m4", "m5", "m6", "m6plus") and after and rng.random() < 0.4:
        plan.events.append((rng.choice(after), "partial", Decimal(rng.choice((20, 30, 40))) / 100))
    return plan


class DemoBuilder:
    def __init__(self, *, customers: int, business_date: date, seed: int, progress=None):
        self.count = customers
        self.business_date = business_date
        self.rng = random.Random(seed)
        self.progress = progress or partial(tqdm, disable=True)
        self.actor = system_user()
        self.summary = DemoSummary(business_date)
        self.references = 0

    # -- users and reference data -----------------------------------------

    def users(self) -> list[tuple[str, str]]:
        """One demo user per role; returns (username, role)."""
        user_model = get_user_model()
        made = []
        # One hash for the shared demo password: hashing is slow on purpose.
        hashed = make_password(DEMO_PASSWORD)
        for username, role, superuser in DEMO_USERS:
            user, _ = user_model.objects.get_or_create(username=username)
            user.is_staff = True
            user.is_superuser = superuser
            user.is_active = True
            user.password = hashed
            user.save()
            user.groups.add(Group.objects.get(name=role))
            made.append((username, role))
        return made

    def products(self) -> dict[str, Product]:
        products = {}
        for jurisdiction, creditor_name, product_name in (
            ("CN", "华信消费金融有限公司", "个人消费分期贷"),
            ("US", "Harbor Bank, N.A.", "Personal instalment loan"),
        ):
            creditor = record(
                Creditor(name=creditor_name, short_code=f"DEMO-{jurisdiction}"),
                actor=self.actor,
                reason=REASON,
            )
            creditor.save()
            policy = CollectionPolicy(
                name=f"{jurisdiction} demo policy", jurisdiction=jurisdiction, **preset(jurisdiction)
            )
            policy.full_clean()
            record(policy, actor=self.actor, reason=REASON).save()
            product = record(
                Product(name=product_name, creditor=creditor, policy=policy), actor=self.actor, reason=REASON
            )
            product.save()
            products[jurisdiction] = product
        return products

    # -- customers ------------------------------------------------------------

    def customers(self) -> list[Customer]:
        people = _People(self.rng)
        customers, points, third = [], [], []
        for _ in self.progress(range(self.count), desc="customers", unit="customer"):
            customer, cps, tps = people.customer("CN" if self.rng.random() < 0.7 else "US")
            customers.append(customer)
            points.append(cps)
            third.append(tps)
        created = bulk_create_with_history(
            customers, Customer, default_user=self.actor, default_change_reason=REASON
        )
        flat_points, flat_third = [], []
        for customer, cps, tps in zip(created, points, third, strict=True):
            for row in cps:
                row.customer = customer
            for row in tps:
                row.customer = customer
            flat_points.extend(cps)
            flat_third.extend(tps)
        bulk_create_with_history(
            flat_points, ContactPoint, default_user=self.actor, default_change_reason=REASON
        )
        bulk_create_with_history(
            flat_third, ThirdPartyContact, default_user=self.actor, default_change_reason=REASON
        )
        self.summary.customers = len(created)
        return created

    # -- debts and their stories ----------------------------------------------

    def plans(self, customers: list[Customer], products: dict[str, Product]) -> list[_Plan]:
        grid = _repayment_days(self.business_date - timedelta(days=HISTORY_DAYS), self.business_date)
        grid = sorted({*grid, self.business_date})
        owners = []
        for customer in customers:
            owners.extend([customer] * (2 if self.rng.random() < 0.05 else 1))
        deck = _scenarios(self.rng, [owner.jurisdiction for owner in owners])
        plans = [
            _plan_debt(
                self.rng,
                customer=customer,
                product=products[customer.jurisdiction],
                scenario=scenario,
                business_date=self.business_date,
                grid=grid,
            )
            for customer, scenario in zip(owners, deck, strict=True)
        ]
        # Placed in order of first due date, so the debts that fall due (and
        # pay) on one day have neighbouring ids: ``play`` closes them as ranges.
        plans.sort(key=lambda p: (p.first_due, p.opened_on))
        return plans

    def place(self, plans: list[_Plan]) -> None:
        for n, plan in enumerate(self.progress(plans, desc="debts", unit="debt"), start=1):
            plan.debt = place_debt(
                creditor=plan.product.creditor,
                product=plan.product,
                customer=plan.customer,
                account_number=f"{plan.product.policy.jurisdiction}{n:09d}",
                currency=plan.product.policy.currency,
                opened_on=plan.opened_on,
                instalments=plan.schedule,
                actor=self.actor,
                reason=REASON,
                source="demo",
                placed_on=plan.opened_on,
            )
        self.summary.debts = len(plans)

    def play(self, plans: list[_Plan]) -> None:
        """Each day's events after their debts were closed through that day,
        then the close of business for the business date.

        Only the debts an event touches are brought up to the event's day
        (``close_chunk`` over the id range of the debts sharing a first due
        date); the others catch up later, which gives the same ledger as
        closing every day (RULES §2, skipped days).
        """
        by_day: dict[date, list[tuple[_Plan, str, object]]] = defaultdict(list)
        for plan in plans:
            for day, kind, arg in plan.events:
                by_day[day].append((plan, kind, arg))
        total = sum(len(events) for events in by_day.values())
        with self.progress(total=total, desc="payments and closures", unit="event") as bar:
            for day in sorted(by_day):
                ranges: dict[date, list[int]] = defaultdict(list)
                for plan, _, _ in by_day[day]:
                    ranges[plan.first_due].append(plan.debt.pk)
                for ids in ranges.values():
                    close_chunk(first_id=min(ids), last_id=max(ids), business_date=day, actor=self.actor)
                for plan, kind, arg in by_day[day]:
                    getattr(self, f"_{kind}")(plan.debt.pk, day, arg)
                    bar.update()
        run_close_of_business(business_date=self.business_date, actor=self.actor)

    def _reference(self, debt_id: int) -> str:
        self.references += 1
        return f"DEMO-{debt_id}-{self.references:06d}"

    def _pay(self, debt_id: int, day: date, amount: Decimal) -> None:
        if amount <= 0:
            return
        post_payment(
            debt=debt_id,
            amount=amount,
            received_on=day,
            reference=self._reference(debt_id),
            channel=self.rng.choice(("bank_transfer", "alipay", "wechat", "card", "ach")),
            actor=self.actor,
            reason=REASON,
        )
        self.summary.payments += 1

    @staticmethod
    def _due(debt: Debt, day: date) -> Decimal:
        """What cures the debt on ``day``: costs plus everything fallen due."""
        fallen_due = sum((i.owed for i in debt.instalments.filter(due_on__lte=day)), ZERO)
        return debt.penalty_balance + debt.fees_balance + debt.legal_cost_balance + fallen_due

    def _cure(self, debt_id: int, day: date, _arg) -> None:
        debt = Debt.objects.get(pk=debt_id)
        if debt.status in Debt.ACTIVE_STATUSES:
            self._pay(debt_id, day, self._due(debt, day))

    def _partial(self, debt_id: int, day: date, share: Decimal) -> None:
        debt = Debt.objects.get(pk=debt_id)
        oldest = debt.instalments.filter(principal_balance__gt=0).order_by("due_on").first()
        if oldest is not None and debt.status in Debt.ACTIVE_STATUSES:
            self._pay(debt_id, day, to_money(oldest.principal_balance * share))

    def _payoff(self, debt_id: int, day: date, _arg) -> None:
        debt = Debt.objects.get(pk=debt_id)
        self._pay(debt_id, day, sum((debt.balance(c) for c in OWED_COMPONENTS), ZERO))

    def _settle(self, debt_id: int, day: date, share: Decimal) -> None:
        debt = Debt.objects.get(pk=debt_id)
        owed = sum((debt.balance(c) for c in OWED_COMPONENTS), ZERO)
        self._pay(debt_id, day, to_money(owed * share))
        self._close(
            debt_id, day, LedgerEntry.Kind.WAIVER, Debt.Status.SETTLED, "settlement: remainder waived"
        )

    def _write_off(self, debt_id: int, day: date, _arg) -> None:
        self._close(
            debt_id, day, LedgerEntry.Kind.WRITE_OFF, Debt.Status.WRITTEN_OFF, "written off as uncollectible"
        )

    def _recall(self, debt_id: int, day: date, _arg) -> None:
        self._close(
            debt_id, day, LedgerEntry.Kind.WRITE_OFF, Debt.Status.RECALLED, "recalled by the creditor"
        )

    def _close(self, debt_id: int, day: date, kind: str, status: str, reason: str) -> None:
        """Take every remaining balance off the debt and close it.

        No settlement/write-off/recall service exists yet; this does what it
        will: entries through ``apply_entries`` on the locked debt, then the
        status with an audit reason, in one transaction.
        """
        with transaction.atomic():
            debt = lock_debt(debt_id)
            specs = []
            instalments = {i.pk: i for i in debt.instalments.select_for_update()}
            for inst in instalments.values():
                for component in ("principal", "interest"):
                    owed = getattr(inst, f"{component}_balance")
                    if owed > 0:
                        specs.append(
                            EntrySpec(
                                component=component,
                                amount=-owed,
                                kind=kind,
                                effective_on=day,
                                key=f"{kind}:{debt.pk}:{component}:{inst.number}",
                                source="demo",
                                instalment=inst,
                            )
                        )
            for component in ("penalty", "fees", "legal_cost"):
                owed = debt.balance(component)
                if owed > 0:
                    specs.append(
                        EntrySpec(
                            component=component,
                            amount=-owed,
                            kind=kind,
                            effective_on=day,
                            key=f"{kind}:{debt.pk}:{component}",
                            source="demo",
                        )
                    )
            apply_entries(debt=debt, specs=specs, actor=self.actor, reason=reason, instalments=instalments)
            debt.status = status
            record(debt, actor=self.actor, reason=reason)
            debt.save(update_fields=["status"])

    # -- calls and promises (the risk model's signal) ---------------------------

    def contact_history(self, plans: list[_Plan]) -> None:
        """Monthly calls on each delinquent debt from a few days after its
        first missed instalment, and the promises behind its payments.

        Debts that pay later (a partial payment or a settlement) were mostly
        reached, with a promise kept on the day of each payment; debts that
        never pay were mostly not reached, and a promise they made was
        broken. Some noise each way keeps it a signal, not a rule.
        """
        rng = self.rng
        phones: dict[int, list[int]] = defaultdict(list)
        for customer_id, point_id in ContactPoint.objects.filter(kind=ContactPoint.Kind.PHONE).values_list(
            "customer_id", "id"
        ):
            phones[customer_id].append(point_id)
        paid = defaultdict(lambda: ZERO)
        for debt_id, day, amount in Payment.objects.values_list("debt_id", "received_on", "amount"):
            paid[(debt_id, day)] += amount
        contacts, promises, broken = [], [], defaultdict(int)

        def call(plan, day, outcome, point):
            zone = ZoneInfo(plan.customer.time_zone or settings.TIME_ZONE)
            at = datetime.combine(day, time(rng.randint(9, 17), rng.randrange(60)), tzinfo=zone)
            contacts.append(
                ContactAttempt(
                    case_id=plan.debt.case_id,
                    debt_id=plan.debt.pk,
                    contact_point_id=point,
                    channel=ContactAttempt.Channel.CALL,
                    outcome=outcome,
                    duration_s=rng.randint(40, 400) if outcome in ContactAttempt.REACHED else 0,
                    started_at=at,
                    note="demo history",
                )
            )
            return contacts[-1]

        for plan in plans:
            points = phones.get(plan.customer.pk)
            if plan.scenario not in DELINQUENT or not points:
                continue
            cured = sum(1 for _, kind, _ in plan.events if kind == "cure")
            first_unpaid = plan.schedule[cured]["due_on"]
            pay_days = sorted(day for day, kind, _ in plan.events if kind in ("partial", "settle"))
            closed = [day for day, kind, _ in plan.events if kind in ("write_off", "recall", "settle")]
            end = min([self.business_date - timedelta(days=1), *closed])
            pays = bool(pay_days)
            reachable = rng.random() < (0.85 if pays else 0.2)
            day = first_unpaid + timedelta(days=rng.randint(3, 10))
            promised = False
            while day <= end:
                point = rng.choice(points)
                upcoming = [p for p in pay_days if day < p <= day + timedelta(days=30)]
                if pays and reachable and upcoming:
                    promise_day = max(day, upcoming[0] - timedelta(days=rng.randint(3, 10)))
                    contact = call(plan, promise_day, ContactAttempt.Outcome.PROMISE, point)
                    amount = paid.get((plan.debt.pk, upcoming[0])) or ZERO
                    if amount > 0:
                        promises.append(
                            PromiseToPay(
                                case_id=plan.debt.case_id,
                                debt_id=plan.debt.pk,
                                contact=contact,
                                amount=amount,
                                due_on=upcoming[0],
                                status=PromiseToPay.Status.KEPT,
                                paid_amount=amount,
                                settled_on=upcoming[0],
                            )
                        )
                elif reachable and not pays and not promised and day + timedelta(days=10) <= end:
                    promised = True
                    contact = call(plan, day, ContactAttempt.Outcome.PROMISE, point)
                    due = day + timedelta(days=7)
                    promises.append(
                        PromiseToPay(
                            case_id=plan.debt.case_id,
                            debt_id=plan.debt.pk,
                            contact=contact,
                            amount=to_money(plan.schedule[cured]["principal"]),
                            due_on=due,
                            status=PromiseToPay.Status.BROKEN,
                            settled_on=due + timedelta(days=3),
                        )
                    )
                    broken[plan.debt.case_id] += 1
                elif reachable:
                    call(plan, day, rng.choice(("right_party", "callback", "refused_to_pay")), point)
                else:
                    call(
                        plan,
                        day,
                        rng.choice(("no_answer", "no_answer", "busy", "voicemail", "wrong_number")),
                        point,
                    )
                day += timedelta(days=rng.randint(25, 35))
        contacts = bulk_create_with_history(
            contacts, ContactAttempt, default_user=self.actor, default_change_reason=REASON
        )
        for promise in promises:
            promise.contact_id = promise.contact.pk
        bulk_create_with_history(
            promises, PromiseToPay, default_user=self.actor, default_change_reason=REASON
        )
        changed = list(CollectionCase.objects.filter(pk__in=broken))
        for case in changed:
            case.broken_promises = broken[case.pk]
        bulk_update_with_history(
            changed,
            CollectionCase,
            ["broken_promises"],
            default_user=self.actor,
            default_change_reason=REASON,
        )
        self.summary.contacts = len(contacts)
        self.summary.promises = len(promises)

    def risk(self) -> None:
        """Train the risk model on the book's history and score the cases."""
        model = train_and_activate(as_of=self.business_date, actor=self.actor)
        if model is not None:
            state = "active" if model.active else "not activated"
            self.summary.risk_model = f"v{model.version} ({state}), holdout AUC {model.metrics['auc']}"
        score_debts(as_of=self.business_date, actor=self.actor)

    # -- cases ------------------------------------------------------------------

    def assign(self) -> None:
        """Give the demo team its cases and set each case's stage from its debts."""
        user_model = get_user_model()
        collectors = list(
            user_model.objects.filter(username__in=("collector", "collector2")).order_by("username")
        )
        lead = user_model.objects.get(username="teamlead")
        team = record(Team(name="Demo team", lead=lead), actor=self.actor, reason=REASON)
        team.save()
        team.members.set([lead, *collectors])
        worst = defaultdict(lambda: -1)
        for case_id, status, dpd in Debt.objects.values_list("case_id", "status", "days_past_due"):
            if status in Debt.ACTIVE_STATUSES:
                worst[case_id] = max(worst[case_id], dpd)
        cases = CollectionCase.objects.filter(debts__creditor__short_code__in=DEMO_CREDITOR_CODES).distinct()
        for n, case in enumerate(self.progress(list(cases.order_by("id")), desc="cases", unit="case")):
            dpd = worst[case.pk]
            if dpd < 0:
                case.stage, case.closed_on = CollectionCase.Stage.CLOSED, self.business_date
            else:
                case.stage = (
                    CollectionCase.Stage.REMINDER
                    if dpd <= 7
                    else CollectionCase.Stage.SOFT
                    if dpd <= 30
                    else CollectionCase.Stage.HARD
                )
                case.assigned_to = collectors[n % len(collectors)]
                case.team = team
                case.priority = Decimal(dpd)
            record(case, actor=self.actor, reason="demo assignment")
            case.save(update_fields=["stage", "closed_on", "assigned_to", "team", "priority"])

    def build(self) -> DemoSummary:
        products = self.products()
        plans = self.plans(self.customers(), products)
        self.place(plans)
        self.play(plans)
        self.contact_history(plans)
        self.assign()
        self.risk()
        # Installed after the portfolio's history is played: the ladder
        # starts with the next close of business instead of firing every
        # step the history already passed.
        for product in products.values():
            install_default_ladder(product.policy, actor=self.actor)
        self.summary.statuses = _counts("status")
        self.summary.buckets = _counts("bucket")
        return self.summary


def _counts(field_name: str) -> dict[str, int]:
    rows = (
        Debt.objects.filter(creditor__short_code__in=DEMO_CREDITOR_CODES)
        .values_list(field_name, flat=True)
        .order_by()
    )
    counts: dict[str, int] = defaultdict(int)
    for value in rows:
        counts[value] += 1
    return dict(sorted(counts.items()))


def build_demo_portfolio(*, customers: int, business_date: date, seed: int = 2026, progress=None):
    """Build the demo book in one transaction; returns ``(summary, users)``.

    The caller checks ``demo_exists()`` first; the demo creditors' short codes
    are unique, so a second build in the same database fails and writes nothing.
    """
    with transaction.atomic():
        builder = DemoBuilder(customers=customers, business_date=business_date, seed=seed, progress=progress)
        users = builder.users()
        summary = builder.build()
    return summary, users
