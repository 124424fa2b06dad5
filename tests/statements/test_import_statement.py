"""import_statement: matching, posting through post_payment, rejections and
reconciliation (issue #9, "Payment files and reconciliation")."""

from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook

from cases.models import Debt, LedgerEntry, Payment
from cases.selectors import ledger_mismatches
from cases.services import post_payment
from cases.statements.models import StatementFile, StatementLine
from cases.statements.selectors import reconciliation
from cases.statements.services import import_statement
from tests.factories import CustomerFactory, ProductFactory, make_debt
from tests.statements.conftest import BUSINESS_DATE
from tests.statements.factories import StatementSourceFactory, line, write_csv

pytestmark = pytest.mark.django_db

# Before the first due date: a payment is all prepaid principal (RULES §2).
JAN = "2026-01-15"


def run(path, source, actor, business_date=BUSINESS_DATE):
    return import_statement(path=path, source=source, actor=actor, business_date=business_date)


def lines_by_number(statement):
    return {row.line_number: row for row in statement.lines.all()}


def assert_reconciles(statement):
    rec = reconciliation(statement)
    assert rec.balanced_at_import and rec.balanced_now
    assert (
        statement.line_count == statement.posted_count + statement.suspense_count + statement.rejected_count
    )
    assert statement.total_amount == (
        statement.posted_amount + statement.suspense_amount + statement.rejected_amount
    )


def test_a_line_matched_by_account_number_is_posted_by_the_waterfall_to_the_cent(tmp_path, actor):
    debt = make_debt()
    source = StatementSourceFactory()
    path = write_csv(tmp_path / "s.csv", [line("T1", "2026-03-16", "2200.00", account=debt.account_number)])

    result = run(path, source, actor)

    row = result.file.lines.get()
    assert row.status == StatementLine.Status.POSTED
    assert row.reason == "matched by account number"
    payment = row.payment
    assert payment.reference == f"{source.code}:T1"
    assert payment.amount == Decimal("2200.00")
    # RULES §2, CN waterfall: penalty 26.50, overdue interest 100.00, the rest principal.
    assert {k: Decimal(v) for k, v in payment.allocation.items()} == {
        "penalty": Decimal("26.50"),
        "interest": Decimal("100.00"),
        "principal": Decimal("2073.50"),
    }
    debt.refresh_from_db()
    assert debt.principal_balance == Decimal("926.50")
    assert debt.interest_balance == 0 and debt.penalty_balance == 0
    assert not list(ledger_mismatches())
    assert (result.file.posted_count, result.file.posted_amount) == (1, Decimal("2200.00"))
    assert result.file.status == StatementFile.Status.RECONCILED


def test_a_payment_reference_naming_an_account_number_matches_its_debt(tmp_path, actor):
    debt = make_debt()
    source = StatementSourceFactory()
    path = write_csv(tmp_path / "s.csv", [line("T1", memo=f"repayment {debt.account_number} thanks")])

    row = run(path, source, actor).file.lines.get()

    assert (row.status, row.debt_id, row.reason) == ("posted", debt.pk, "matched by payment reference")


def test_a_national_id_with_one_open_debt_matches_it(tmp_path, actor):
    debt = make_debt()
    source = StatementSourceFactory()
    path = write_csv(tmp_path / "s.csv", [line("T1", id_no=debt.customer.national_id)])

    row = run(path, source, actor).file.lines.get()

    assert (row.status, row.debt_id, row.reason) == ("posted", debt.pk, "matched by national ID")


def test_lines_matching_no_debt_or_several_go_to_suspense_with_the_reason(tmp_path, actor):
    customer = CustomerFactory()
    product = ProductFactory()
    first = make_debt(product=product, customer=customer)
    make_debt(product=product, customer=customer)
    other = make_debt()
    source = StatementSourceFactory()
    path = write_csv(
        tmp_path / "s.csv",
        [
            line("T1", id_no=customer.national_id),
            line("T2", account="NO-SUCH-ACCOUNT"),
            line("T3"),
            line("T4", account=first.account_number, id_no=other.customer.national_id),
        ],
    )

    statement = run(path, source, actor).file

    rows = lines_by_number(statement)
    assert {n: r.status for n, r in rows.items()} == {
        2: "suspense",
        3: "suspense",
        4: "suspense",
        5: "suspense",
    }
    assert rows[2].reason == "The national ID matches a customer with 2 open debts."
    assert "no debt has account number 'NO-SUCH-ACCOUNT'" in rows[3].reason
    assert rows[4].reason == "The line carries no account number, payment reference or national ID."
    assert "national ID on the line is another customer's" in rows[5].reason
    assert not Payment.objects.filter(reference__startswith=f"{source.code}:").exists()
    assert (statement.suspense_count, statement.suspense_amount) == (4, Decimal("400.00"))
    assert statement.status == StatementFile.Status.OPEN
    assert_reconciles(statement)


def test_an_account_number_shared_by_two_creditors_goes_to_suspense_unless_the_source_names_one(
    tmp_path, actor
):
    one = make_debt(account_number="SHARED-1")
    make_debt(account_number="SHARED-1")
    path = write_csv(tmp_path / "s.csv", [line("T1", account="SHARED-1")])

    anywhere = run(path, StatementSourceFactory(), actor).file.lines.get()
    for_creditor = run(path, StatementSourceFactory(creditor=one.creditor), actor).file.lines.get()

    assert anywhere.status == "suspense" and "matches 2 debts" in anywhere.reason
    assert (for_creditor.status, for_creditor.debt_id) == ("posted", one.pk)


def test_bad_lines_are_rejected_with_line_number_column_and_reason(tmp_path, actor):
    debt = make_debt(account_number="GOOD-1")
    source = StatementSourceFactory()
    path = write_csv(
        tmp_path / "s.csv",
        [
            line("T1", amount="abc", account="GOOD-1"),
            line("T2", amount="-5.00", account="GOOD-1"),
            line("T3", amount="0", account="GOOD-1"),
            line("T4", amount="1.005", account="GOOD-1"),
            line("T5", day="16/03/2026", account="GOOD-1"),
            line("T6", day="2026-03-21", account="GOOD-1"),
            line("T7", currency="XYZ", account="GOOD-1"),
            line("", account="GOOD-1"),
            line("T9", amount="10.00", account="GOOD-1"),
            line("T9", amount="10.00", account="GOOD-1"),
            line("T11", channel="pigeon", account="GOOD-1"),
        ],
    )

    statement = run(path, source, actor).file

    rows = lines_by_number(statement)
    rejected = {n: (r.column, r.reason) for n, r in rows.items() if r.status == "rejected"}
    assert rejected == {
        2: ("amount", "'abc' is not an amount."),
        3: ("amount", "-5.00 is not a payment: amounts must be greater than zero."),
        4: ("amount", "0 is not a payment: amounts must be greater than zero."),
        5: ("amount", "1.005 has more than two decimal places."),
        6: ("date", "'16/03/2026' is not a date in the format %Y-%m-%d."),
        7: ("date", "The date 2026-03-21 is after the business date."),
        8: ("currency", "Unknown currency 'XYZ': no policy collects in it."),
        9: ("txn_id", "The transaction id is missing."),
        11: ("txn_id", "The transaction id repeats line 10."),
        12: ("channel", "Unknown channel 'pigeon'."),
    }
    assert rows[10].status == "posted" and rows[10].debt_id == debt.pk
    # Lines whose amount could be read count in the money totals; the rest as 0.00.
    # lines 6, 7, 8, 9 and 12 (100.00 each) and 11 (10.00).
    assert statement.rejected_amount == Decimal("510.00")
    assert statement.line_count == 11 and statement.rejected_count == 10
    assert_reconciles(statement)


def test_a_line_post_payment_refuses_is_rejected_with_its_reason(tmp_path, actor):
    cny = make_debt(account_number="CNY-1")
    ProductFactory(policy__jurisdiction="US", policy__currency="USD")  # USD is a known currency
    paid = make_debt(account_number="PAID-1")
    post_payment(debt=paid, amount="3000.00", received_on=date(2026, 1, 10), reference="PAY-ALL")
    paid.refresh_from_db()
    assert paid.status == Debt.Status.PAID
    source = StatementSourceFactory()
    path = write_csv(
        tmp_path / "s.csv",
        [line("T1", currency="USD", account="CNY-1"), line("T2", account="PAID-1")],
    )

    statement = run(path, source, actor).file

    rows = lines_by_number(statement)
    assert rows[2].status == "rejected" and rows[2].column == "currency"
    assert rows[2].reason == "Posting refused: This debt is in CNY, not USD."
    assert rows[3].status == "rejected" and rows[3].reason == "Posting refused: The debt is paid."
    assert not Payment.objects.filter(debt__in=[cny, paid]).exclude(reference="PAY-ALL").exists()
    assert_reconciles(statement)


def test_totals_reconcile_in_lines_and_money_for_a_mixed_file(tmp_path, actor):
    debt = make_debt(account_number="MIX-1")
    source = StatementSourceFactory()
    path = write_csv(
        tmp_path / "s.csv",
        [
            line("T1", amount="150.25", account="MIX-1"),
            line("T2", amount="99.99", account="MIX-1"),
            line("T3", amount="40.10", account="NOPE"),
            line("T4", amount="7.77", currency="XYZ", account="MIX-1"),
        ],
    )

    statement = run(path, source, actor).file

    assert (statement.line_count, statement.total_amount) == (4, Decimal("298.11"))
    assert (statement.posted_count, statement.posted_amount) == (2, Decimal("250.24"))
    assert (statement.suspense_count, statement.suspense_amount) == (1, Decimal("40.10"))
    assert (statement.rejected_count, statement.rejected_amount) == (1, Decimal("7.77"))
    assert_reconciles(statement)
    debt.refresh_from_db()
    # Penalty 26.50 and overdue interest 100.00 first (RULES §2), then 123.74 of principal.
    assert (debt.penalty_balance, debt.interest_balance) == (0, 0)
    assert debt.principal_balance == Decimal("2876.26")


def test_the_same_file_imported_twice_writes_nothing_the_second_time(tmp_path, actor):
    debt = make_debt(account_number="TWICE-1")
    source = StatementSourceFactory()
    path = write_csv(
        tmp_path / "s.csv", [line("T1", JAN, account="TWICE-1"), line("T2", JAN, account="NOPE")]
    )
    first = run(path, source, actor)
    counts = _counts()

    again = run(path, source, actor)

    assert again.created is False and again.file.pk == first.file.pk
    assert _counts() == counts
    debt.refresh_from_db()
    assert debt.principal_balance == Decimal("2900.00")


def test_a_second_file_reports_lines_already_imported_and_posts_only_new_ones(tmp_path, actor):
    debt = make_debt(account_number="OVER-1")
    source = StatementSourceFactory()
    run(
        write_csv(tmp_path / "a.csv", [line("T1", JAN, account="OVER-1"), line("T2", JAN, account="NOPE")]),
        source,
        actor,
    )

    second = run(
        write_csv(
            tmp_path / "b.csv",
            [
                line("T1", JAN, account="OVER-1"),
                line("T2", JAN, account="NOPE"),
                line("T3", JAN, amount="5.00", account="OVER-1"),
            ],
        ),
        source,
        actor,
    ).file

    rows = lines_by_number(second)
    assert rows[2].status == rows[3].status == "rejected"
    assert rows[2].reason.startswith("Already imported: statement file #") and "(posted)" in rows[2].reason
    assert "(in suspense)" in rows[3].reason
    assert rows[4].status == "posted"
    assert second.already_posted_count == 2
    assert Payment.objects.filter(debt=debt).count() == 2
    debt.refresh_from_db()
    assert debt.principal_balance == Decimal("2895.00")
    assert_reconciles(second)


def test_a_transaction_id_is_per_source(tmp_path, actor):
    make_debt(account_number="SRC-1")
    path = write_csv(tmp_path / "s.csv", [line("T1", account="SRC-1")])

    run(path, StatementSourceFactory(code="icbc"), actor)
    run(path, StatementSourceFactory(code="alipay"), actor)

    assert set(Payment.objects.values_list("reference", flat=True)) == {"icbc:T1", "alipay:T1"}


def test_gbk_and_utf8_statements_read_the_same(tmp_path, actor):
    make_debt(account_number="ENC-1")
    make_debt(account_number="ENC-2")
    header = ["交易流水号", "交易日期", "金额", "币种", "账号", "附言", "身份证号", "付款人", "渠道"]
    source = StatementSourceFactory(
        transaction_id_column="交易流水号",
        date_column="交易日期",
        amount_column="金额",
        currency_column="币种",
        account_number_column="账号",
        reference_column="附言",
        national_id_column="身份证号",
        payer_name_column="付款人",
        channel_column="渠道",
        date_format="%Y/%m/%d",
    )
    gbk = write_csv(
        tmp_path / "gbk.csv",
        [line("G1", "2026/03/16", account="ENC-1", payer="张三", memo="还款")],
        header=header,
        encoding="gbk",
    )
    utf8 = write_csv(
        tmp_path / "utf8.csv",
        [line("U1", "2026/03/16", account="ENC-2", payer="李四", memo="还款")],
        header=header,
        encoding="utf-8-sig",
    )

    from_gbk = run(gbk, source, actor).file
    from_utf8 = run(utf8, source, actor).file

    assert (from_gbk.encoding, from_utf8.encoding) == ("GBK", "UTF-8")
    assert from_gbk.lines.get().payer_name == "张三" and from_gbk.lines.get().status == "posted"
    assert from_utf8.lines.get().payer_name == "李四" and from_utf8.lines.get().status == "posted"


def test_an_xlsx_statement_imports_like_a_csv(tmp_path, actor):
    make_debt(account_number="XL-1")
    book = Workbook()
    sheet = book.active
    sheet.append(["txn_id", "date", "amount", "currency", "account_no", "memo", "id_no", "payer", "channel"])
    sheet.append(["X1", date(2026, 3, 16), 1413.5, "CNY", "XL-1", "", "", "王五", "alipay"])
    book.save(tmp_path / "s.xlsx")

    row = run(tmp_path / "s.xlsx", StatementSourceFactory(), actor).file.lines.get()

    assert (row.status, row.amount, row.received_on, row.channel) == (
        "posted",
        Decimal("1413.50"),
        date(2026, 3, 16),
        "alipay",
    )
    assert row.payment.channel == "alipay"


def test_the_stored_file_and_history_record_who_imported_it(tmp_path, actor):
    make_debt(account_number="WHO-1")
    path = write_csv(tmp_path / "s.csv", [line("T1", account="WHO-1")])

    statement = run(path, StatementSourceFactory(), actor).file

    assert statement.imported_by == actor
    assert statement.file.read().startswith(b"txn_id,")
    assert statement.history.first().history_user == actor
    assert statement.lines.get().history.first().history_user == actor


def _counts():
    from cases.statements.models import StatementLine as Line

    return {
        model.__name__: model.objects.count()
        for model in (
            StatementFile,
            Line,
            Payment,
            LedgerEntry,
            StatementFile.history.model,
            Line.history.model,
        )
    }
