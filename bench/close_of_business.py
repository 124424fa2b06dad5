"""Benchmark: the project's close of business against one hand-written SQL statement.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ledgerline \\
        .venv/bin/python bench/close_of_business.py [--debts 100000] [--chunk-size 2000]

Creates a scratch test database (``test_<name>``, dropped afterwards),
builds a synthetic portfolio of N debts with ``INSERT … SELECT
generate_series`` (three instalments each, DPD spread over 0–250 days, every
debt closed through the day before), then in the same process:

1. times ``run_close_of_business`` for the business date (all chunks,
   in-process, exactly what a worker does per chunk);
2. copies the debt, instalment and ledger tables and times a single
   set-based SQL statement that does the same day's work on the copy:
   charges interest due that day, ages every debt (DPD, bucket) and accrues
   penalty interest. It is the floor to compare against: it skips what the
   project also does (DOFD, late fees, cost cap, charge-off, catch-up of
   skipped days, history rows, per-chunk locking).

Prints ``cob_ratio=<project seconds / sql seconds>`` and debts per second
for both, and checks that both produced the same penalty total.
"""

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
# Measure as production runs: DEBUG off (Django then keeps no query log).
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 40)

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

BUSINESS_DATE = date(2026, 6, 30)


def build_portfolio(n: int) -> None:
    from cases.models import CollectionPolicy, Creditor, Product
    from cases.policy_presets import preset

    values = preset("CN")
    values.update(cost_cap_annual_rate=None, late_fee_fixed=0, late_fee_percent=0)
    policy = CollectionPolicy.objects.create(name="Bench CN", jurisdiction="CN", **values)
    creditor = Creditor.objects.create(name="Bench creditor", short_code="BENCH")
    product = Product.objects.create(name="Bench loan", creditor=creditor, policy=policy)
    d = BUSINESS_DATE.isoformat()
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO customers_customer (kind, name, national_id, preferred_language, jurisdiction,
                                            region, time_zone, created_at)
            SELECT 'person', 'Bench ' || g, lpad(g::text, 18, '0'), 'zh-hans', 'CN', '',
                   'Asia/Shanghai', now()
            FROM generate_series(1, %s) g
            """,
            [n],
        )
        cur.execute("SELECT min(id) FROM customers_customer")
        first_customer = cur.fetchone()[0]
        # Opened between 30 and 340 days before the business date; the
        # first instalment falls due 30 days after opening.
        cur.execute(
            f"""
            INSERT INTO cases_debt (creditor_id, product_id, customer_id, account_number, currency,
                opened_on, original_principal, status, days_past_due, bucket, closed_through,
                principal_balance, interest_balance, penalty_balance, fees_balance,
                legal_cost_balance, credit_balance, created_at)
            SELECT %s, %s, %s + g - 1, 'B' || lpad(g::text, 9, '0'), 'CNY',
                   DATE '{d}' - (30 + (g * 7919) %% 311), 3000.00, 'open', 0, 'current',
                   DATE '{d}' - 1, 3000.00, 0, 0, 0, 0, 0, now()
            FROM generate_series(1, %s) g
            """,
            [creditor.pk, product.pk, first_customer, n],
        )
        cur.execute(
            """
            INSERT INTO cases_instalment (debt_id, number, due_on, principal, interest,
                                          principal_balance, interest_balance)
            SELECT d.id, k, d.opened_on + 30 * k, 1000.00, 50.00, 1000.00, 0
            FROM cases_debt d CROSS JOIN generate_series(1, 3) k
            """
        )
        cur.execute(
            """
            INSERT INTO cases_ledgerentry (debt_id, instalment_id, component, amount, effective_on,
                kind, source, idempotency_key, reason, created_at)
            SELECT i.debt_id, i.id, 'principal', i.principal, d.opened_on, 'charge', 'bench',
                   'debt:' || i.debt_id || ':principal:' || i.number, 'bench', now()
            FROM cases_instalment i JOIN cases_debt d ON d.id = i.debt_id
            """
        )
        # Interest of instalments already due was charged on earlier days.
        cur.execute(
            f"""
            INSERT INTO cases_ledgerentry (debt_id, instalment_id, component, amount, effective_on,
                kind, source, idempotency_key, reason, created_at)
            SELECT i.debt_id, i.id, 'interest', i.interest, i.due_on, 'charge', 'bench',
                   'interest:' || i.debt_id || ':' || i.number, 'bench', now()
            FROM cases_instalment i WHERE i.due_on < DATE '{d}'
            """
        )
        cur.execute(
            f"""
            UPDATE cases_instalment SET interest_balance = interest WHERE due_on < DATE '{d}';
            UPDATE cases_debt d SET interest_balance = s.total
            FROM (SELECT debt_id, sum(interest) total FROM cases_instalment
                  WHERE due_on < DATE '{d}' GROUP BY debt_id) s
            WHERE s.debt_id = d.id;
            ANALYZE;
            """
        )


SQL_BASELINE = """
WITH due_today AS (
    SELECT i.id, i.debt_id, i.number, i.interest FROM bench_instalment i
    WHERE i.due_on = %(d)s AND i.interest > 0
), interest_rows AS (
    INSERT INTO bench_ledger (debt_id, component, amount, effective_on, kind, idempotency_key)
    SELECT debt_id, 'interest', interest, %(d)s, 'charge', 'interest:' || debt_id || ':' || number
    FROM due_today
    RETURNING debt_id, amount
), inst_upd AS (
    UPDATE bench_instalment i SET interest_balance = i.interest_balance + t.interest
    FROM due_today t WHERE t.id = i.id
), aged AS (
    SELECT d.id,
           coalesce(%(d)s - min(i.due_on) FILTER (
               WHERE i.due_on < %(d)s AND i.principal_balance + i.interest_balance > p.tolerance), 0) AS dpd,
           coalesce(sum(i.principal_balance) FILTER (
               WHERE i.due_on < %(d)s AND i.principal_balance + i.interest_balance > p.tolerance), 0) AS base,
           p.grace_days, p.penalty_daily_rate
    FROM bench_debt d
    JOIN cases_product pr ON pr.id = d.product_id
    JOIN cases_collectionpolicy p ON p.id = pr.policy_id
    JOIN bench_instalment i ON i.debt_id = d.id
    WHERE d.status IN ('open', 'charged_off') AND d.closed_through < %(d)s
    GROUP BY d.id, p.tolerance, p.grace_days, p.penalty_daily_rate
), accrued AS (
    SELECT id, dpd,
           CASE WHEN dpd > grace_days THEN round(base * penalty_daily_rate, 2) ELSE 0 END AS penalty
    FROM aged
), debt_upd AS (
    UPDATE bench_debt d SET
        days_past_due = a.dpd,
        bucket = CASE WHEN a.dpd = 0 THEN 'current' WHEN a.dpd <= 30 THEN 'M1' WHEN a.dpd <= 60 THEN 'M2'
                      WHEN a.dpd <= 90 THEN 'M3' WHEN a.dpd <= 120 THEN 'M4' WHEN a.dpd <= 150 THEN 'M5'
                      WHEN a.dpd <= 180 THEN 'M6' ELSE 'M6+' END,
        penalty_balance = d.penalty_balance + a.penalty,
        interest_balance = d.interest_balance + coalesce(t.interest, 0),
        closed_through = %(d)s
    FROM accrued a LEFT JOIN (SELECT debt_id, sum(interest) AS interest FROM due_today GROUP BY debt_id) t
        ON t.debt_id = a.id
    WHERE a.id = d.id
)
INSERT INTO bench_ledger (debt_id, component, amount, effective_on, kind, idempotency_key)
SELECT id, 'penalty', penalty, %(d)s, 'accrual', 'penalty:' || id || ':' || %(d)s
FROM accrued WHERE penalty > 0
"""


def copy_tables() -> None:
    with connection.cursor() as cur:
        cur.execute(
            """
            CREATE TABLE bench_debt AS SELECT * FROM cases_debt;
            ALTER TABLE bench_debt ADD PRIMARY KEY (id);
            CREATE TABLE bench_instalment AS SELECT * FROM cases_instalment;
            ALTER TABLE bench_instalment ADD PRIMARY KEY (id);
            CREATE INDEX ON bench_instalment (debt_id, due_on);
            CREATE TABLE bench_ledger (id bigserial PRIMARY KEY, debt_id bigint, component text,
                amount numeric(18, 2), effective_on date, kind text, idempotency_key text UNIQUE);
            ANALYZE bench_debt; ANALYZE bench_instalment;
            """
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--debts", type=int, default=100_000)
    parser.add_argument("--chunk-size", type=int, default=None)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/close_of_business.py needs PostgreSQL: set DATABASE_URL=postgres://…")

    from cases.models import LedgerEntry
    from cases.services.close_of_business import run_close_of_business

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        started = time.perf_counter()
        build_portfolio(args.debts)
        print(f"built {args.debts} debts in {time.perf_counter() - started:.1f}s")
        copy_tables()

        started = time.perf_counter()
        summary = run_close_of_business(business_date=BUSINESS_DATE, chunk_size=args.chunk_size)
        project = time.perf_counter() - started

        started = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute(SQL_BASELINE, {"d": BUSINESS_DATE})
        sql = time.perf_counter() - started

        with connection.cursor() as cur:
            cur.execute("SELECT coalesce(sum(amount), 0) FROM bench_ledger WHERE component = 'penalty'")
            sql_penalty = cur.fetchone()[0]
        project_penalty = sum(
            LedgerEntry.objects.filter(component="penalty", effective_on=BUSINESS_DATE).values_list(
                "amount", flat=True
            )
        )
        print(
            f"project: {summary.debts} debts, {summary.entries} entries in {project:.2f}s "
            f"({summary.debts / project:,.0f} debts/s)"
        )
        print(f"sql:     one statement in {sql:.2f}s ({args.debts / sql:,.0f} debts/s)")
        print(
            f"penalty totals: project {project_penalty} sql {sql_penalty} "
            f"{'match' if project_penalty == sql_penalty else 'DIFFER'}"
        )
        print(f"cob_ratio={project / sql:.2f}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
