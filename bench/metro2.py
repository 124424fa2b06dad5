"""Benchmark: the Metro 2 writer over N synthetic accounts, in constant memory.

    .venv/bin/python bench/metro2.py [--accounts 1000000] [--memory-check 100000]

Builds N account states lazily in memory (a generator: statuses 11/71/…/97/
13/64/DA spread over the portfolio, one in five with a J1 co-borrower, one
in ten with a K1 original creditor) and streams them through the project's
writer (``cases.bureau.metro2.write_metro2``: header, one record per
account, trailer with its counts) into a sink that counts bytes, then in the
same process writes the same number of pre-formatted 426-character lines
into the same sink: the floor any writer pays for iterating and writing.

Prints records per second for both and ``metro2_ratio=<writer/baseline>``;
then, with tracemalloc, the writer's peak traced memory for
``--memory-check`` accounts and for N, which stays flat because nothing is
kept per account (the trailer needs only counters). No database is needed:
the export's per-chunk queries are measured by the tests
(``tests/bureau/test_export_fields.py``), not here.
"""

import argparse
import os
import sys
import time
import tracemalloc
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
# Measure as production runs: DEBUG off.
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 40)

from cases.bureau.metro2 import Account, Consumer, Header, Totals, write_metro2  # noqa: E402

STATUSES = ("11", "11", "11", "71", "78", "80", "82", "83", "84", "97", "13", "64", "62", "DA")
HEADER = Header(
    identification={"equifax": "EQ0001", "experian": "EX001", "transunion": "TU0001"},
    activity_date=date(2026, 6, 30),
    date_created=date(2026, 7, 2),
    reporter_name="Bench Lending",
    reporter_address="1 Bank St, Springfield, IL 62701",
)
STAMP = datetime(2026, 7, 2, 3, 0, 0)
ADDRESS = {
    "line1": "12 MAIN ST",
    "line2": "APT 4",
    "city": "SPRINGFIELD",
    "state": "IL",
    "postal_code": "62704",
}


def accounts(n: int):
    """N account states, made one at a time (the export makes them per chunk)."""
    for i in range(n):
        status = STATUSES[i % len(STATUSES)]
        delinquent = status not in ("11", "DA")
        yield Account(
            identification_number="BENCH0001",
            account_number=f"B{i:09d}",
            portfolio_type="I",
            account_type="01",
            date_opened=date(2025, 1 + i % 12, 1 + i % 28),
            highest_credit=Decimal("3000.00"),
            terms_duration="012",
            terms_frequency="M",
            scheduled_monthly_payment=Decimal("262.50"),
            account_status=status,
            payment_history_profile=("0123456L" * 3)[i % 8 :][:24].ljust(24, "B"),
            current_balance=Decimal(1000 + i % 5000) + Decimal("0.37"),
            amount_past_due=Decimal(i % 900),
            date_of_account_information=date(2026, 6, 30),
            date_of_first_delinquency=date(2026, 3, 2) if delinquent else None,
            surname="PUBLIC",
            first_name="JOHN",
            ssn=f"{100000000 + i % 899999999}",
            date_of_birth=date(1980, 5, 17),
            telephone="2175550100",
            address=ADDRESS,
            time_stamp=STAMP,
            payment_rating="1" if status == "13" else "",
            associated=[Consumer(surname="PUBLIC", first_name="MARY", ecoa_code="2")] if i % 5 == 0 else [],
            original_creditor=("FIRST BANK", "02") if i % 10 == 0 else None,
        )


class CountingSink:
    """Stands in for the file: keeps the byte count, not the bytes."""

    def __init__(self):
        self.bytes = 0

    def write(self, text: str) -> None:
        self.bytes += len(text)


def run_writer(n: int) -> tuple[float, int, Totals]:
    sink, totals = CountingSink(), Totals()
    start = time.perf_counter()
    for line in write_metro2(HEADER, accounts(n), totals):
        sink.write(line)
        sink.write("\n")
    return time.perf_counter() - start, sink.bytes, totals


def run_baseline(n: int) -> tuple[float, int]:
    """The same number of ready-made 426-character records, same sink."""
    line = "0426" + "1" * 422
    sink = CountingSink()
    start = time.perf_counter()
    for record in (line for _ in range(n + 2)):
        sink.write(record)
        sink.write("\n")
    return time.perf_counter() - start, sink.bytes


def peak_memory(n: int) -> int:
    tracemalloc.start()
    run_writer(n)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument(
        "--memory-check", type=int, default=100_000, help="smaller N for the flat-memory check"
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    args = parser.parse_args()
    n = args.accounts

    writer_s, writer_bytes, totals = run_writer(n)
    baseline_s, baseline_bytes = run_baseline(n)
    assert totals.base_records == n
    print(f"accounts={n}")
    print(f"writer: {writer_s:.2f} s, {n / writer_s:,.0f} records/s, {writer_bytes / 1e6:,.1f} MB written")
    print(f"baseline (pre-formatted 426-char lines): {baseline_s:.2f} s, {n / baseline_s:,.0f} records/s")
    print(f"metro2_ratio={writer_s / baseline_s:.1f}")
    if not args.no_memory:
        small = peak_memory(args.memory_check)
        large = peak_memory(n)
        print(
            f"peak traced memory: {small / 1024:,.0f} KiB for {args.memory_check} accounts, "
            f"{large / 1024:,.0f} KiB for {n} accounts"
        )


if __name__ == "__main__":
    main()
