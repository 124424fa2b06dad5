"""Benchmark: importing a placement file against a plain PostgreSQL ``COPY`` of the same rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ledgerline \\
        .venv/bin/python bench/import_placements.py [--rows 100000] [--keep FILE]

Creates a scratch test database (``test_<name>``, dropped afterwards), a
creditor with one product, and a CSV placement file of N rows in the default
layout (customer identity, phone, email, address, a three-instalment
schedule and a total), then in the same process:

1. times ``submit_placement_file`` (all-or-nothing, in this process, exactly
   what the command does): inspect, count, validate every row, then load
   customers, contact points, cases, debts, instalments, principal charges
   and every history row in one transaction;
2. times ``COPY … FROM STDIN (FORMAT csv)`` of the same file into a scratch
   table of text columns: the floor (no parsing, no validation, one table).

Prints ``import_ratio=<import seconds / copy seconds>``, rows per second for
both, the rows written, and the process's peak memory (ru_maxrss), which
should not grow with N: the file is streamed and written in batches.
"""

import argparse
import csv
import os
import resource
import sys
import tempfile
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

BUSINESS_DATE = date(2026, 5, 1)
HEADER = [
    "account_number",
    "product",
    "opened_on",
    "name",
    "kind",
    "national_id",
    "date_of_birth",
    "preferred_language",
    "jurisdiction",
    "time_zone",
    "phone",
    "email",
    "address",
    "schedule",
    "total",
]


def write_file(path: str, rows: int) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(1, rows + 1):
            principal = 1000 + n % 500
            writer.writerow(
                [
                    f"BN{n:09d}",
                    "Bench loan",
                    "2026-01-01",
                    f"客户{n}",
                    "person",
                    f"{110101199000000000 + n}",
                    "1990-01-01",
                    "zh-hans",
                    "CN",
                    "Asia/Shanghai",
                    f"138{n:08d}",
                    f"c{n}@example.com",
                    f"北京市东城区示例路{n}号",
                    f"2026-01-31:{principal}.00:50.00;2026-03-02:{principal}.00:50.00;"
                    f"2026-04-01:{principal}.00:50.00",
                    f"{3 * principal + 150}.00",
                ]
            )


def copy_baseline(path: str) -> float:
    columns = ", ".join(f"{name} text" for name in HEADER)
    with connection.cursor() as cur:
        cur.execute(f"CREATE TABLE bench_placement ({columns})")
    started = time.perf_counter()
    with connection.cursor() as cur, open(path, "rb") as handle:
        with cur.cursor.copy("COPY bench_placement FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
            while block := handle.read(1 << 20):
                copy.write(block)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", metavar="FILE", help="also keep the generated file here")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/import_placements.py needs PostgreSQL: set DATABASE_URL=postgres://…")

    from backoffice.audit import system_user
    from cases.models import CollectionPolicy, Creditor, Debt, LedgerEntry, Product
    from cases.placements import services
    from cases.placements.services import submit_placement_file
    from cases.policy_presets import preset

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    workdir = tempfile.mkdtemp(prefix="bench-placements-")
    from django.conf import settings

    settings.MEDIA_ROOT = Path(workdir) / "media"
    path = os.path.join(workdir, "placements.csv")
    try:
        policy = CollectionPolicy.objects.create(name="Bench CN", jurisdiction="CN", **preset("CN"))
        creditor = Creditor.objects.create(name="Bench creditor", short_code="BENCH")
        Product.objects.create(name="Bench loan", creditor=creditor, policy=policy)
        actor = system_user()
        started = time.perf_counter()
        write_file(path, args.rows)
        size = os.path.getsize(path)
        print(f"generated {args.rows:,} rows ({size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f}s")
        if args.keep:
            import shutil

            shutil.copyfile(path, args.keep)

        # Auto-assignment of the new cases is queued after commit and runs on
        # the workers (as in production); it is not part of the import timed here.
        queued_for_assignment = []
        services._auto_assign = queued_for_assignment.extend
        phases = {}

        def on_progress(phase: str, done: int, total: int | None) -> None:
            phases.setdefault(phase, time.perf_counter())

        started = time.perf_counter()
        submission = submit_placement_file(
            creditor=creditor,
            path=path,
            original_name="placements.csv",
            actor=actor,
            business_date=BUSINESS_DATE,
            background=False,
            on_progress=on_progress,
        )
        project = time.perf_counter() - started
        placement_file = submission.placement_file
        if placement_file.status != "done":
            sys.exit(f"import {placement_file.status}: {placement_file.error}")

        sql = copy_baseline(path)
        debts = Debt.objects.count()
        entries = LedgerEntry.objects.count()
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"import: {placement_file.loaded:,} accounts ({debts:,} debts, {entries:,} ledger entries) "
            f"in {project:.2f}s ({args.rows / project:,.0f} rows/s)"
        )
        if "validate" in phases and "load" in phases:
            print(
                f"  inspect+count {phases['validate'] - started:.1f}s, "
                f"validate {phases['load'] - phases['validate']:.1f}s, "
                f"load {started + project - phases['load']:.1f}s"
            )
        print(f"cases queued for auto-assignment after commit: {len(queued_for_assignment):,}")
        print(f"copy:   {args.rows:,} rows in {sql:.2f}s ({args.rows / sql:,.0f} rows/s)")
        print(f"peak memory (ru_maxrss): {peak_mb:,.0f} MB")
        print(f"import_ratio={project / sql:.1f}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
