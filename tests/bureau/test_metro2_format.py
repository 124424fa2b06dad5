"""The writer's formatting and layout, read back by our own reader (no database)."""

import itertools
from datetime import date, datetime
from decimal import Decimal

from cases.bureau import layout
from cases.bureau.metro2 import (
    Account,
    Consumer,
    Header,
    Totals,
    alpha,
    mmddyyyy,
    money,
    numeric,
    write_metro2,
)
from cases.bureau.reader import read_metro2, validate_metro2

HEADER = Header(
    identification={"equifax": "EQ123", "experian": "EX1", "transunion": "TU77", "innovis": "IN9"},
    activity_date=date(2026, 6, 30),
    date_created=date(2026, 7, 2),
    reporter_name="Acme Lending",
    reporter_address="1 Bank St, Springfield, IL 62701",
    reporter_telephone="+1 (217) 555-0199",
)


def account(**overrides) -> Account:
    values = dict(
        identification_number="ACME0001",
        account_number="acc-42",
        portfolio_type="I",
        account_type="01",
        date_opened=date(2026, 1, 1),
        highest_credit=Decimal("3000.00"),
        terms_duration="003",
        terms_frequency="M",
        scheduled_monthly_payment=Decimal("1050.00"),
        account_status="71",
        payment_history_profile="0" * 5 + "B" * 19,
        current_balance=Decimal("2150.99"),
        amount_past_due=Decimal("1050.50"),
        date_of_account_information=date(2026, 6, 30),
        date_of_first_delinquency=date(2026, 5, 31),
        surname="Smith",
        first_name="Anna",
        time_stamp=datetime(2026, 7, 2, 3, 4, 5),
    )
    values.update(overrides)
    return Account(**values)


def field(line: str, table, name: str) -> str:
    f = next(f for f in table if f.name == name)
    return line[f.start - 1 : f.end]


def test_alpha_fields_are_upper_case_left_justified_and_blank_filled():
    assert alpha("Smith-Jones", 15) == "SMITH-JONES    "
    assert alpha("Müller", 8) == "M LLER  "  # outside the guide's character set: a blank
    assert alpha("x" * 40, 5) == "XXXXX"


def test_numeric_fields_are_right_justified_and_zero_filled():
    assert numeric(42, 9) == "000000042"
    assert numeric(None, 4) == "0000"
    assert numeric(10**12, 9) == "999999999"


def test_money_is_whole_units_with_the_cents_truncated():
    assert money(Decimal("1234.99"), 9) == "000001234"
    assert money(Decimal("0.99"), 9) == "000000000"
    assert money(Decimal("-50.00"), 9) == "000000000"  # a credit balance is reported as zero


def test_dates_are_mmddyyyy_and_zero_filled_when_empty():
    assert mmddyyyy(date(2026, 3, 2)) == "03022026"
    assert mmddyyyy(None) == "00000000"


def test_every_record_has_the_guides_length_and_rdw():
    lines = list(write_metro2(HEADER, [account(), account(account_number="2")]))
    assert [len(line) for line in lines] == [426, 426, 426, 426]
    assert all(line[:4] == "0426" for line in lines)
    assert lines[0][4:10] == "HEADER" and lines[-1][4:11] == "TRAILER"


def test_base_segment_fields_sit_at_the_guides_positions():
    line = list(write_metro2(HEADER, [account()]))[1]
    assert line[4] == "1"  # processing indicator
    assert line[5:19] == "07022026030405"  # time stamp, positions 6-19
    assert line[20:40] == "ACME0001".ljust(20)  # field 5, positions 21-40
    assert line[42:72] == "ACC-42".ljust(30)  # field 7, positions 43-72
    assert line[123:125] == "71"  # 17A, positions 124-125
    assert line[126:150] == "00000" + "B" * 19  # field 18, positions 127-150
    assert line[154:163] == "000002150"  # field 21, positions 155-163
    assert line[163:172] == "000001050"  # field 22
    assert line[181:189] == "06302026"  # field 24, positions 182-189
    assert line[189:197] == "05312026"  # field 25, positions 190-197
    assert line[231:256] == "SMITH".ljust(25)  # field 31, positions 232-256
    assert line[324] == "1"  # field 38 ECOA, position 325


def test_header_fields_sit_at_the_guides_positions():
    line = next(iter(write_metro2(HEADER, [])))
    assert field(line, layout.HEADER, "equifax_program_identifier") == "EQ123     "
    assert line[47:55] == "06302026"  # activity date, positions 48-55
    assert line[79:119] == "ACME LENDING".ljust(40)  # reporter name, positions 80-119
    assert field(line, layout.HEADER, "reporter_telephone_number") == "2175550199"


def test_appended_segments_follow_the_base_in_the_guides_order_and_lengths():
    acc = account(
        associated=[
            Consumer(surname="Smith", first_name="Bob", ecoa_code="2"),
            Consumer(
                surname="Lee",
                ecoa_code="5",
                address={"line1": "9 Elm Rd", "city": "Peoria", "state": "IL", "postal_code": "61602"},
            ),
        ],
        original_creditor=("First Bank", "02"),
        purchased_sold=("1", "Old Owner LLC"),
        specialized_payment=("01", None, date(2027, 1, 1), Decimal("5000.70")),
    )
    line = list(write_metro2(HEADER, [acc]))[1]
    assert len(line) == 426 + 100 + 200 + 34 + 34 + 30
    assert line[:4] == str(len(line)).zfill(4)
    assert line[426:428] == "J1" and line[526:528] == "J2" and line[726:728] == "K1"
    assert line[760:762] == "K2" and line[794:796] == "K4"
    record = next(r for r in read_metro2([line]) if r.kind == "base")
    assert record.segment("J1")["first_name"] == "BOB"
    assert record.segment("J2")["city"] == "PEORIA"
    assert record.segment("J2")["ecoa_code"] == "5"
    assert record.segment("K1") == {
        "segment_identifier": "K1",
        "original_creditor_name": "FIRST BANK",
        "creditor_classification": 2,
    }
    assert record.segment("K2")["purchased_sold_name"] == "OLD OWNER LLC"
    assert record.segment("K4")["balloon_payment_amount"] == 5000
    assert record.segment("K4")["balloon_payment_due_date"] == date(2027, 1, 1)


def test_trailer_counts_what_the_file_holds():
    accounts = [
        account(account_status="11", date_of_first_delinquency=None),
        account(account_status="71", associated=[Consumer(surname="A")]),
        account(account_status="DA", ssn="123456789", date_of_first_delinquency=None),
    ]
    totals = Totals()
    lines = list(write_metro2(HEADER, accounts, totals))
    trailer = next(r for r in read_metro2(lines) if r.kind == "trailer").fields
    assert trailer["total_base_records"] == 3
    assert trailer["total_status_code_11"] == 1
    assert trailer["total_status_code_71"] == 1
    assert trailer["total_status_code_da"] == 1
    assert trailer["total_j1_segments"] == 1
    assert trailer["block_count"] == 5
    assert trailer["total_ssn_base_segments"] == 1
    assert totals.current_balance == 3 * 2150
    assert validate_metro2(lines) == []


def test_the_writer_is_lazy_over_its_accounts():
    """A generator over an endless iterator still yields its first lines."""
    endless = (account(account_number=str(n)) for n in itertools.count())
    first = list(itertools.islice(write_metro2(HEADER, endless), 3))
    assert [line[42:44] for line in first[1:]] == ["0 ", "1 "]


def test_every_written_field_reads_back():
    acc = account(
        ssn="987654321",
        date_of_birth=date(1990, 2, 3),
        telephone="2175550100",
        address={
            "line1": "1 Main",
            "city": "Springfield",
            "state": "IL",
            "postal_code": "62704",
            "country": "US",
        },
        special_comment="AU",
        compliance_condition_code="XB",
        payment_rating="",
        date_of_last_payment=date(2026, 6, 15),
        actual_payment_amount=Decimal("100.10"),
    )
    record = next(r for r in read_metro2(write_metro2(HEADER, [acc])) if r.kind == "base")
    v = record.fields
    assert v["identification_number"] == "ACME0001"
    assert v["social_security_number"] == 987654321
    assert v["date_of_birth"] == date(1990, 2, 3)
    assert v["telephone_number"] == 2175550100
    assert v["special_comment"] == "AU"
    assert v["compliance_condition_code"] == "XB"
    assert v["date_of_last_payment"] == date(2026, 6, 15)
    assert v["actual_payment_amount"] == 100
    assert v["postal_code"] == "62704"
    assert v["date_closed"] is None
