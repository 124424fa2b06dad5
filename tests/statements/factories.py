"""Statement sources and files for the statements tests."""

import csv
from pathlib import Path

import factory

from cases.statements.models import StatementSource

HEADER = ["txn_id", "date", "amount", "currency", "account_no", "memo", "id_no", "payer", "channel"]


class StatementSourceFactory(factory.django.DjangoModelFactory):
    """A bank whose files have every column, English headers, ISO dates."""

    class Meta:
        model = StatementSource

    name = factory.Sequence(lambda n: f"Bank {n}")
    code = factory.Sequence(lambda n: f"bank{n}")
    kind = StatementSource.Kind.BANK
    default_currency = "CNY"
    date_format = "%Y-%m-%d"
    transaction_id_column = "txn_id"
    date_column = "date"
    amount_column = "amount"
    currency_column = "currency"
    account_number_column = "account_no"
    reference_column = "memo"
    national_id_column = "id_no"
    payer_name_column = "payer"
    channel_column = "channel"


def line(
    txn="",
    day="2026-03-16",
    amount="100.00",
    currency="CNY",
    account="",
    memo="",
    id_no="",
    payer="",
    channel="",
):
    return [txn, day, amount, currency, account, memo, id_no, payer, channel]


def write_csv(path: Path, rows, *, header=HEADER, encoding="utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path
