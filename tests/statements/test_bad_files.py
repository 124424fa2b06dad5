"""A statement file refused as a whole writes nothing (issue #9, "Bad input")."""

import pytest
from django.core.management import CommandError, call_command

from backoffice.filereaders import FileRejected
from cases.models import Debt, LedgerEntry, Payment
from cases.statements.models import StatementFile, StatementLine
from cases.statements.services import import_statement
from tests.factories import make_debt
from tests.statements.conftest import BUSINESS_DATE
from tests.statements.factories import HEADER, StatementSourceFactory, line, write_csv

pytestmark = pytest.mark.django_db

TABLES = (
    StatementFile,
    StatementLine,
    Payment,
    LedgerEntry,
    Debt,
    StatementFile.history.model,
    StatementLine.history.model,
    Payment.history.model,
    Debt.history.model,
)


def counts():
    return {model.__name__: model.objects.count() for model in TABLES}


@pytest.fixture
def source():
    make_debt(account_number="BAD-1")
    return StatementSourceFactory()


def refused(path, source, actor, *, code):
    before = counts()
    with pytest.raises(FileRejected) as caught:
        import_statement(path=path, source=source, actor=actor, business_date=BUSINESS_DATE)
    assert caught.value.code == code
    assert counts() == before
    return " ".join(caught.value.messages)


def test_a_missing_column_is_refused_naming_it(tmp_path, source, actor):
    header = [name for name in HEADER if name != "amount"]
    path = write_csv(
        tmp_path / "s.csv", [["T1", "2026-03-16", "CNY", "BAD-1", "", "", "", ""]], header=header
    )

    message = refused(path, source, actor, code="missing_column")

    assert message == "The header lacks required column(s): amount."


def test_an_empty_file_is_refused(tmp_path, source, actor):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")

    assert refused(path, source, actor, code="empty") == "The file is empty."


def test_a_file_above_the_size_limit_is_refused(tmp_path, source, actor, settings):
    settings.IMPORT_MAX_BYTES = 200
    path = write_csv(tmp_path / "big.csv", [line(f"T{n}", account="BAD-1") for n in range(20)])

    message = refused(path, source, actor, code="too_large")

    assert "files above 200 bytes are refused" in message


def test_a_file_neither_utf8_nor_gbk_is_refused(tmp_path, source, actor):
    path = write_csv(tmp_path / "s.csv", [line("T1", account="BAD-1")])
    path.write_bytes(path.read_bytes() + b"\xff\xff\xff\n")

    assert "neither UTF-8 nor GBK" in refused(path, source, actor, code="encoding")


def test_a_truncated_xlsx_is_refused(tmp_path, source, actor):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(HEADER)
    for n in range(200):
        book.active.append(line(f"T{n}", account="BAD-1"))
    book.save(tmp_path / "full.xlsx")
    data = (tmp_path / "full.xlsx").read_bytes()
    (tmp_path / "cut.xlsx").write_bytes(data[: len(data) // 2])

    assert "truncated or damaged" in refused(tmp_path / "cut.xlsx", source, actor, code="bad_xlsx")


def test_the_command_exits_non_zero_on_a_refused_file_and_writes_nothing(tmp_path, source):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    before = counts()

    with pytest.raises(CommandError, match="File refused, nothing imported: The file is empty."):
        call_command("import_payments", str(path), "--source", source.name, "--date", "2026-03-20")

    assert counts() == before


def test_no_stored_file_is_left_behind_when_the_import_fails(tmp_path, source, actor, settings, monkeypatch):
    from cases.statements import services

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "_totals", broken)
    path = write_csv(tmp_path / "s.csv", [line("T1", account="BAD-1")])
    before = counts()

    with pytest.raises(RuntimeError):
        import_statement(path=path, source=source, actor=actor, business_date=BUSINESS_DATE)

    assert counts() == before
    stored = list((settings.MEDIA_ROOT / "statements").rglob("*.csv")) if settings.MEDIA_ROOT.exists() else []
    assert stored == []
