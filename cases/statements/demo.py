"""Demo data for statements: two sources and one imported statement.

``seed(business_date=…)`` is called by ``seed_demo`` after the portfolio
exists. It writes a small statement built from the demo's own open debts —
lines found by account number, by payment reference and by national ID, two
that match nothing (the suspense queue has work) and one bad line — and
imports it through ``import_statement`` like any other file.
"""

import csv
import os
import tempfile
from datetime import date, timedelta

from backoffice.audit import system_user
from cases.models import Debt
from cases.statements.models import StatementSource
from cases.statements.services import import_statement

HEADER = ["交易流水号", "交易日期", "金额", "币种", "账号", "附言", "身份证号", "付款人"]


def sources() -> tuple[StatementSource, StatementSource]:
    bank, _ = StatementSource.objects.get_or_create(
        code="icbc",
        defaults={
            "name": "ICBC collection account",
            "kind": StatementSource.Kind.BANK,
            "default_currency": "CNY",
            "date_format": "%Y/%m/%d",
            "transaction_id_column": "交易流水号",
            "date_column": "交易日期",
            "amount_column": "金额",
            "currency_column": "币种",
            "account_number_column": "账号",
            "reference_column": "附言",
            "national_id_column": "身份证号",
            "payer_name_column": "付款人",
        },
    )
    platform, _ = StatementSource.objects.get_or_create(
        code="alipay",
        defaults={
            "name": "Alipay merchant statement",
            "kind": StatementSource.Kind.PLATFORM,
            "channel": "alipay",
            "default_currency": "CNY",
            "date_format": "%Y-%m-%d",
            "transaction_id_column": "trade_no",
            "date_column": "trade_date",
            "amount_column": "amount",
            "reference_column": "memo",
            "payer_name_column": "buyer",
        },
    )
    return bank, platform


def seed(*, business_date: date) -> None:
    bank, _platform = sources()
    debts = list(
        Debt.objects.filter(status__in=Debt.ACTIVE_STATUSES, currency="CNY")
        .select_related("customer")
        .order_by("id")[:6]
    )
    if len(debts) < 3:
        return
    day = (business_date - timedelta(days=1)).strftime("%Y/%m/%d")
    rows = []
    for n, debt in enumerate(debts[:3]):
        rows.append([f"DEMO{n:04d}", day, "100.00", "CNY", debt.account_number, "", "", debt.customer.name])
    rows.append(["DEMO0101", day, "50.00", "CNY", "", f"还款 {debts[3 % len(debts)].account_number}", "", ""])
    rows.append(["DEMO0201", day, "88.00", "CNY", "6222000000000000", "转账", "", "王某某"])
    rows.append(["DEMO0202", day, "300.00", "CNY", "", "", "", "未知付款人"])
    rows.append(["DEMO0301", day, "12.3x", "CNY", debts[0].account_number, "", "", ""])
    handle = tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, encoding="gbk", newline="")
    with handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    try:
        import_statement(
            path=handle.name,
            source=bank,
            actor=system_user(),
            business_date=business_date,
            original_name=f"icbc-{business_date.isoformat()}.csv",
        )
    finally:
        os.unlink(handle.name)
