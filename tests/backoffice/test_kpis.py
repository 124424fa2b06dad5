"""The KPI selectors (RULES.md §8) on a small hand-made portfolio whose every
number was worked out by hand below.

The portfolio (CN policy with no penalty, fees or interest, so a balance is
principal minus payments). Debts are placed on 2026-01-01 (D6 on
2026-03-05) and aged by the real close of business on 2026-02-28 and
2026-03-31, under ``time_machine``, so their history rows carry those days.
The period is March 2026: opening state = close of 2026-02-28.

===== ======= ====== ========== ============ ================== =========== ============
debt  product case   instalments            2026-02-28         March         2026-03-31
                     (due: principal)       (DPD, bucket, bal)   payments    (bucket, balance)
===== ======= ====== ====================== ================== =========== ============
D1    P1      A/Alpha 02-10:1000 05-10:1000  18 M1 2000        03-10 1000  current 1000
D2    P1      A/Alpha 01-20:1000 05-20:1000  39 M2 2000        —           M3 (70) 2000
D3    P1      A/Alpha 02-20:500  06-20:500    8 M1 1000        —           M2 (39) 1000
D4    P1      B/Beta  04-15:3000              0 current 3000   03-12 200,  current 3000
                                                               reversed 03-13
D5    P2      B/Beta  02-01:1000 07-01:1000  27 M1 2000        03-20 400   M2 (58) 1600
D6    P1      B/Beta  04-05:1500 (placed 03-05) —               —           current 1500
===== ======= ====== ====================== ================== =========== ============

Contacts (all on the debtor; ``c6`` is in February):

==== ===== ========= ======== =========== =====
id   by    case      channel  direction   outcome
==== ===== ========= ======== =========== =====
c1   A     D1        call     outbound    right_party  03-02
c2   A     D2        call     outbound    no_answer    03-03
c3   A     D1        call     outbound    promise      03-04
c4   A     D3        call     outbound    refused      03-05
c5   A     D2        call     inbound     right_party  03-06
c6   A     D3        call     outbound    busy         02-27
c7   B     D5        call     outbound    voicemail    03-07
c8   B     D4        call     outbound    callback     03-08
==== ===== ========= ======== =========== =====

Promises: p1 A/D1 1000 due 03-10 kept (made 03-04); p2 A/D2 500 due 03-15
broken (03-06); p3 B/D5 800 due 03-20 partially kept, paid 400 (03-08);
p4 B/D4 200 due 04-10 pending (03-08); p5 A/D3 300 due 03-03 kept (made
02-25); p6 A/D3 250 due 03-25 cancelled (made 02-20).
"""

import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.management import call_command

from backoffice import access, kpis, roles
from cases.models import CollectionCase, ContactAttempt, Debt, Payment, PromiseToPay
from cases.services.close_of_business import close_chunk
from cases.services.payments import post_payment, reverse_payment
from tests.factories import PolicyFactory, ProductFactory, TeamFactory, UserFactory, make_debt

pytestmark = pytest.mark.django_db

LOCAL = ZoneInfo("Asia/Shanghai")
MARCH = kpis.Period(date(2026, 3, 1), date(2026, 3, 31))
D = Decimal


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=LOCAL)


def member(role: str, username: str):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=role))
    return user


@dataclass
class Portfolio:
    debts: dict
    collector_a: object
    collector_b: object
    lead_a: object
    supervisor: object
    alpha: object
    beta: object
    p1: object
    p2: object


def _schedule(*lines):
    return [{"due_on": due, "principal": D(amount), "interest": D("0")} for due, amount in lines]


def build_portfolio() -> Portfolio:
    """The portfolio of the module docstring; needs the database."""
    call_command("setup_roles", stdout=io.StringIO())
    collector_a = member(roles.COLLECTOR, "col_a")
    collector_b = member(roles.COLLECTOR, "col_b")
    lead_a = member(roles.TEAM_LEAD, "lead_a")
    supervisor = member(roles.SUPERVISOR, "sup")
    alpha = TeamFactory(name="Alpha", lead=lead_a)
    alpha.members.add(collector_a)
    beta = TeamFactory(name="Beta")
    beta.members.add(collector_b)
    policy = PolicyFactory(penalty_daily_rate=D("0"), cost_cap_annual_rate=None)
    p1 = ProductFactory(policy=policy, name="Cash loan")
    p2 = ProductFactory(policy=policy, creditor=p1.creditor, name="Card")
    jan1 = date(2026, 1, 1)
    with time_machine.travel(at(jan1, 10), tick=False):
        d1 = make_debt(
            product=p1,
            opened_on=jan1,
            instalments=_schedule((date(2026, 2, 10), 1000), (date(2026, 5, 10), 1000)),
        )
        d2 = make_debt(
            product=p1,
            opened_on=jan1,
            instalments=_schedule((date(2026, 1, 20), 1000), (date(2026, 5, 20), 1000)),
        )
        d3 = make_debt(
            product=p1,
            opened_on=jan1,
            instalments=_schedule((date(2026, 2, 20), 500), (date(2026, 6, 20), 500)),
        )
        d4 = make_debt(product=p1, opened_on=jan1, instalments=_schedule((date(2026, 4, 15), 3000)))
        d5 = make_debt(
            product=p2,
            opened_on=jan1,
            instalments=_schedule((date(2026, 2, 1), 1000), (date(2026, 7, 1), 1000)),
        )
    with time_machine.travel(at(date(2026, 2, 28), 22), tick=False):
        close_chunk(first_id=d1.pk, last_id=d5.pk, business_date=date(2026, 2, 28))
    with time_machine.travel(at(date(2026, 3, 5), 10), tick=False):
        d6 = make_debt(
            product=p1, opened_on=date(2026, 3, 5), instalments=_schedule((date(2026, 4, 5), 1500))
        )
    for debt, amount, day, ref in ((d1, "1000", 10, "R1"), (d4, "200", 12, "R4"), (d5, "400", 20, "R5")):
        with time_machine.travel(at(date(2026, 3, day), 12), tick=False):
            post_payment(
                debt=debt,
                amount=D(amount),
                received_on=date(2026, 3, day),
                reference=ref,
                today=date(2026, 3, day),
            )
    with time_machine.travel(at(date(2026, 3, 13), 12), tick=False):
        payment = d4.payments.get()
        reverse_payment(
            payment=payment,
            reversed_on=date(2026, 3, 13),
            reason="returned transfer",
            today=date(2026, 3, 13),
        )
    with time_machine.travel(at(date(2026, 3, 31), 22), tick=False):
        close_chunk(first_id=d1.pk, last_id=d6.pk, business_date=date(2026, 3, 31))

    stages = {d1: "soft", d2: "hard", d3: "soft", d4: "reminder", d5: "soft", d6: "reminder"}
    for debt in (d1, d2, d3):
        CollectionCase.objects.filter(pk=debt.case_id).update(
            assigned_to=collector_a, team=alpha, stage=stages[debt]
        )
    for debt in (d4, d5, d6):
        CollectionCase.objects.filter(pk=debt.case_id).update(
            assigned_to=collector_b, team=beta, stage=stages[debt]
        )

    call, out, inb = (
        ContactAttempt.Channel.CALL,
        ContactAttempt.Direction.OUTBOUND,
        ContactAttempt.Direction.INBOUND,
    )
    for by, debt, direction, outcome, day in (
        (collector_a, d1, out, "right_party", date(2026, 3, 2)),
        (collector_a, d2, out, "no_answer", date(2026, 3, 3)),
        (collector_a, d1, out, "promise", date(2026, 3, 4)),
        (collector_a, d3, out, "refused", date(2026, 3, 5)),
        (collector_a, d2, inb, "right_party", date(2026, 3, 6)),
        (collector_a, d3, out, "busy", date(2026, 2, 27)),
        (collector_b, d5, out, "voicemail", date(2026, 3, 7)),
        (collector_b, d4, out, "callback", date(2026, 3, 8)),
    ):
        ContactAttempt.objects.create(
            case_id=debt.case_id,
            channel=call,
            direction=direction,
            outcome=outcome,
            started_at=at(day, 10),
            created_by=by,
        )

    S = PromiseToPay.Status
    for by, debt, amount, due, status, paid, made in (
        (collector_a, d1, "1000", date(2026, 3, 10), S.KEPT, "1000", date(2026, 3, 4)),
        (collector_a, d2, "500", date(2026, 3, 15), S.BROKEN, "0", date(2026, 3, 6)),
        (collector_b, d5, "800", date(2026, 3, 20), S.PARTIALLY_KEPT, "400", date(2026, 3, 8)),
        (collector_b, d4, "200", date(2026, 4, 10), S.PENDING, "0", date(2026, 3, 8)),
        (collector_a, d3, "300", date(2026, 3, 3), S.KEPT, "300", date(2026, 2, 25)),
        (collector_a, d3, "250", date(2026, 3, 25), S.CANCELLED, "0", date(2026, 2, 20)),
    ):
        promise = PromiseToPay.objects.create(
            case_id=debt.case_id,
            debt=debt,
            amount=D(amount),
            due_on=due,
            status=status,
            paid_amount=D(paid),
            created_by=by,
        )
        PromiseToPay.objects.filter(pk=promise.pk).update(created_at=at(made, 11))

    debts = {
        name: Debt.objects.get(pk=d.pk)
        for name, d in zip(("D1", "D2", "D3", "D4", "D5", "D6"), (d1, d2, d3, d4, d5, d6), strict=True)
    }
    return Portfolio(debts, collector_a, collector_b, lead_a, supervisor, alpha, beta, p1, p2)


@pytest.fixture
def portfolio(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return build_portfolio()


def scoped(user, **filters):
    return {
        "debts": kpis.filter_debts(access.debts_for(user), **filters),
        "contacts": kpis.filter_contacts(access.contacts_for(user), **filters),
        "promises": kpis.filter_promises(access.promises_for(user), **filters),
        "payments": kpis.filter_payments(access.payments_for(user), **filters),
    }


# --------------------------------------------------------------------------
# The portfolio is what the docstring says


def test_history_gives_the_buckets_at_period_start_and_end(portfolio):
    debts = Debt.objects.all()
    start = kpis.debt_states_on(debts, date(2026, 2, 28))
    end = kpis.debt_states_on(debts, date(2026, 3, 31))
    d = {name: debt.pk for name, debt in portfolio.debts.items()}
    assert {name: start.get(pk, (None,))[0] for name, pk in d.items()} == {
        "D1": "M1",
        "D2": "M2",
        "D3": "M1",
        "D4": "current",
        "D5": "M1",
        "D6": None,
    }
    assert {name: end[pk][0] for name, pk in d.items()} == {
        "D1": "current",
        "D2": "M3",
        "D3": "M2",
        "D4": "current",
        "D5": "M2",
        "D6": "current",
    }


def test_balances_at_a_date_are_the_ledger_sum_up_to_that_date(portfolio):
    balances = kpis.balances_on(Debt.objects.all(), date(2026, 2, 28), date(2026, 3, 31))
    got = {name: balances.get(debt.pk) for name, debt in portfolio.debts.items()}
    assert got == {
        "D1": [D("2000.00"), D("1000.00")],
        "D2": [D("2000.00"), D("2000.00")],
        "D3": [D("1000.00"), D("1000.00")],
        "D4": [D("3000.00"), D("3000.00")],  # 200 paid 03-12, reversed 03-13
        "D5": [D("2000.00"), D("1600.00")],
        "D6": [D("0.00"), D("1500.00")],  # placed 03-05
    }


# --------------------------------------------------------------------------
# Each KPI, whole portfolio (a supervisor sees every case)


def test_right_party_contact_rate_counts_outbound_calls_without_refused(portfolio):
    qs = scoped(portfolio.supervisor)
    # attempts: c1 c2 c3 c7 c8 (c4 refused, c5 inbound, c6 February) = 5;
    # reached: c1 c3 c8 = 3 → 3/5
    assert kpis.right_party_contact_rate(qs["contacts"], MARCH) == D("0.6000")


def test_promise_rate_is_promises_made_per_right_party_contact(portfolio):
    qs = scoped(portfolio.supervisor)
    # made in March: p1 p2 p3 p4 = 4; right-party contacts c1 c3 c5 c8 = 4 → 4/4
    assert kpis.promise_rate(qs["contacts"], qs["promises"], MARCH) == D("1.0000")


def test_promise_kept_rate_is_weighted_by_amount(portfolio):
    qs = scoped(portfolio.supervisor)
    # due in March and settled: p1 1000 + p2 500 + p3 800 + p5 300 = 2600
    # (p4 due in April, p6 cancelled); kept p1 1000 + p5 300 + paid on p3 400
    # = 1700 → 1700/2600 = 0.65384… → 0.6538
    assert kpis.promise_kept_rate(qs["promises"], MARCH) == D("0.6538")


def test_cure_rate_is_accounts_back_to_current_over_delinquent_at_start(portfolio):
    qs = scoped(portfolio.supervisor)
    # delinquent 02-28: D1 D2 D3 D5 = 4; current 03-31: D1 → 1/4
    assert kpis.cure_rate(qs["debts"], MARCH) == D("0.2500")


def test_recovery_rate_is_collected_over_delinquent_balance_plus_placements(portfolio):
    qs = scoped(portfolio.supervisor)
    # collected: 1000 (D1) + 400 (D5); D4's 200 was reversed → 1400
    assert kpis.collected_amount(qs["payments"], MARCH) == D("1400.00")
    # base: D1 2000 + D2 2000 + D3 1000 + D5 2000 = 7000 delinquent, + D6 1500 placed
    assert kpis.delinquent_balance_at_start(qs["debts"], MARCH) == D("7000.00")
    assert kpis.placements(qs["debts"], MARCH) == {"accounts": 1, "balance": D("1500.00")}
    # 1400 / 8500 = 0.16470… → 0.1647
    assert kpis.recovery_rate(qs["debts"], qs["payments"], MARCH) == D("0.1647")


def test_roll_rate_matrix_by_balance(portfolio):
    matrix = kpis.roll_rate_matrix(scoped(portfolio.supervisor)["debts"], MARCH)
    rows = {row["bucket"]: row for row in matrix["rows"]}
    assert list(rows) == ["current", "M1", "M2"]
    # current: D4 3000 → current 3000
    assert rows["current"]["start_balance"] == D("3000.00")
    assert rows["current"]["cells"]["current"] == D("1.0000")
    assert rows["current"]["roll"] == D("0.0000")
    # M1 at start: D1 2000 + D3 1000 + D5 2000 = 5000;
    # → current: D1 1000 / 5000 = 0.2; → M2: D3 1000 + D5 1600 = 2600 / 5000 = 0.52
    assert rows["M1"]["accounts"] == 3
    assert rows["M1"]["start_balance"] == D("5000.00")
    assert rows["M1"]["cells"]["current"] == D("0.2000")
    assert rows["M1"]["cells"]["M2"] == D("0.5200")
    assert rows["M1"]["cells"]["M1"] == D("0.0000")
    assert rows["M1"]["roll"] == D("0.5200")
    # M2: D2 2000 → M3 2000
    assert rows["M2"]["roll"] == D("1.0000")
    assert rows["M2"]["closed"] == 0


def test_collected_per_day_has_every_day_of_the_period(portfolio):
    per_day = dict(kpis.collected_per_day(scoped(portfolio.supervisor)["payments"], MARCH))
    assert len(per_day) == 31
    assert per_day[date(2026, 3, 10)] == D("1000.00")
    assert per_day[date(2026, 3, 20)] == D("400.00")
    assert per_day[date(2026, 3, 12)] == D("0.00")  # reversed
    assert sum(per_day.values()) == D("1400.00")


def test_portfolio_by_bucket_and_stage_use_balances_now(portfolio):
    qs = scoped(portfolio.supervisor)
    # current: D1 1000 + D4 3000 + D6 1500; M2: D3 1000 + D5 1600; M3: D2 2000
    assert kpis.portfolio_by_bucket(qs["debts"]) == [
        {"bucket": "current", "accounts": 3, "balance": D("5500.00")},
        {"bucket": "M2", "accounts": 2, "balance": D("2600.00")},
        {"bucket": "M3", "accounts": 1, "balance": D("2000.00")},
    ]
    # reminder: D4 D6; soft: D1 D3 D5; hard: D2
    assert kpis.portfolio_by_stage(qs["debts"]) == [
        {"stage": "reminder", "accounts": 2, "cases": 2, "balance": D("4500.00")},
        {"stage": "soft", "accounts": 3, "cases": 3, "balance": D("3600.00")},
        {"stage": "hard", "accounts": 1, "cases": 1, "balance": D("2000.00")},
    ]


# --------------------------------------------------------------------------
# Filters: collector, team, product, period


def test_collector_filter(portfolio):
    qs = scoped(portfolio.supervisor, collector=portfolio.collector_a)
    # A's calls: c1 c2 c3 → reached c1 c3: 2/3
    assert kpis.right_party_contact_rate(qs["contacts"], MARCH) == D("0.6667")
    # A's promises made p1 p2 = 2; A's right-party contacts c1 c3 c5 = 3
    assert kpis.promise_rate(qs["contacts"], qs["promises"], MARCH) == D("0.6667")
    # p1 1000 + p5 300 kept of p1 1000 + p2 500 + p5 300 = 1300/1800 = 0.72222…
    assert kpis.promise_kept_rate(qs["promises"], MARCH) == D("0.7222")
    # delinquent D1 D2 D3, cured D1 → 1/3
    assert kpis.cure_rate(qs["debts"], MARCH) == D("0.3333")
    # 1000 / (2000 + 2000 + 1000) = 0.2
    assert kpis.recovery_rate(qs["debts"], qs["payments"], MARCH) == D("0.2000")


def test_team_filter(portfolio):
    qs = scoped(portfolio.supervisor, team=portfolio.beta)
    # Beta: c7 c8 → reached c8: 1/2
    assert kpis.right_party_contact_rate(qs["contacts"], MARCH) == D("0.5000")
    # p3: 400 / 800
    assert kpis.promise_kept_rate(qs["promises"], MARCH) == D("0.5000")
    # delinquent D5 only, not cured
    assert kpis.cure_rate(qs["debts"], MARCH) == D("0.0000")
    # 400 / (D5 2000 + D6 1500 placed) = 0.114285… → 0.1143
    assert kpis.recovery_rate(qs["debts"], qs["payments"], MARCH) == D("0.1143")


def test_product_filter(portfolio):
    qs = scoped(portfolio.supervisor, product=portfolio.p2)
    # P2 is D5: only c7 (voicemail) is on its case (c8 is on D4's) → 0/1
    assert kpis.right_party_contact_rate(qs["contacts"], MARCH) == D("0.0000")
    # 400 / 2000
    assert kpis.recovery_rate(qs["debts"], qs["payments"], MARCH) == D("0.2000")
    # D5: M1 2000 → M2 1600
    assert kpis.roll_rate_matrix(qs["debts"], MARCH)["rows"][0]["roll"] == D("0.8000")
    assert kpis.promise_kept_rate(qs["promises"], MARCH) == D("0.5000")


def test_period_filter(portfolio):
    qs = scoped(portfolio.supervisor)
    feb27 = kpis.Period(date(2026, 2, 27), date(2026, 2, 27))
    # c6 busy: 0 of 1
    assert kpis.right_party_contact_rate(qs["contacts"], feb27) == D("0.0000")
    assert kpis.collected_amount(qs["payments"], feb27) == D("0.00")
    # no promise due that day, no right-party contact: no rate rather than 0
    assert kpis.promise_kept_rate(qs["promises"], feb27) is None
    assert kpis.promise_rate(qs["contacts"], qs["promises"], feb27) is None
    # 2026-03-10 alone: D1 pays 1000 of the 7000 delinquent at the close of 03-09
    day = kpis.Period(date(2026, 3, 10), date(2026, 3, 10))
    assert kpis.recovery_rate(qs["debts"], qs["payments"], day) == D("0.1429")  # 1000/7000


# --------------------------------------------------------------------------
# Team lead sees only their team; collectors


def test_team_lead_sees_only_their_teams_numbers(portfolio):
    qs = scoped(portfolio.lead_a)
    # same as collector A's cases: D1 D2 D3
    assert kpis.right_party_contact_rate(qs["contacts"], MARCH) == D("0.6667")
    assert kpis.cure_rate(qs["debts"], MARCH) == D("0.3333")
    assert kpis.recovery_rate(qs["debts"], qs["payments"], MARCH) == D("0.2000")
    assert kpis.collected_amount(qs["payments"], MARCH) == D("1000.00")
    assert [row["bucket"] for row in kpis.portfolio_by_bucket(qs["debts"])] == ["current", "M2", "M3"]


def test_leaderboard_ranks_collectors_by_amount_collected(portfolio):
    sup = portfolio.supervisor
    board = kpis.leaderboard(
        users=type(sup).objects.all(),
        cases=access.cases_for(sup),
        **{k: v for k, v in scoped(sup).items() if k != "debts"},
        period=MARCH,
    )
    assert [(row["rank"], row["user"].username) for row in board] == [(1, "col_a"), (2, "col_b")]
    a, b = board
    # A: contacts c1 c2 c3 c5 (c4 refused is no contact) on D1 D2; reached c1 c3 c5
    assert {
        k: a[k] for k in ("assigned_cases", "worked_cases", "contacts", "right_party_contacts", "promises")
    } == {
        "assigned_cases": 3,
        "worked_cases": 2,
        "contacts": 4,
        "right_party_contacts": 3,
        "promises": 2,
    }
    assert a["kept_rate"] == D("0.7222")  # 1300/1800
    assert a["collected"] == D("1000.00")
    assert (b["contacts"], b["right_party_contacts"], b["promises"], b["kept_rate"], b["collected"]) == (
        2,
        1,
        2,
        D("0.5000"),
        D("400.00"),
    )


def test_collector_summary(portfolio):
    sup = portfolio.supervisor
    summary = kpis.collector_summary(
        collector=portfolio.collector_b,
        cases=access.cases_for(sup),
        **scoped(sup),
        period=MARCH,
    )
    assert summary["collected"] == D("400.00")
    assert summary["right_party_contact_rate"] == D("0.5000")  # c8 of c7 c8
    assert summary["promise_rate"] == D("2.0000")  # p3 p4 per c8
    assert summary["kept_rate"] == D("0.5000")
    # B holds D4 3000 + D6 1500 current, D5 1600 in M2
    assert summary["by_bucket"] == [
        {"bucket": "current", "accounts": 2, "balance": D("4500.00")},
        {"bucket": "M2", "accounts": 1, "balance": D("1600.00")},
    ]


def test_a_collector_sees_only_their_own_cases_numbers(portfolio):
    qs = scoped(portfolio.collector_b)
    assert kpis.collected_amount(qs["payments"], MARCH) == D("400.00")
    assert kpis.cure_rate(qs["debts"], MARCH) == D("0.0000")


def test_rates_are_none_without_a_denominator(db):
    empty = kpis.Period(date(2026, 3, 1), date(2026, 3, 31))
    assert kpis.cure_rate(Debt.objects.none(), empty) is None
    assert kpis.recovery_rate(Debt.objects.none(), Payment.objects.none(), empty) is None
    assert kpis.roll_rate_matrix(Debt.objects.none(), empty)["rows"] == []
    assert kpis.rate(2, 3) == D("0.6667")
