"""``manage.py import_payments FILE --source NAME``."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cases.models import Payment
from cases.statements.models import StatementFile
from tests.factories import make_debt
from tests.statements.factories import StatementSourceFactory, line, write_csv

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command("import_payments", *args, stdout=out)
    return out.getvalue()


def test_the_command_imports_and_prints_the_reconciliation(tmp_path):
    make_debt(account_number="CMD-1")
    StatementSourceFactory(name="ICBC Shanghai", code="icbc-sh")
    path = write_csv(
        tmp_path / "s.csv",
        [
            line("C1", "2026-01-15", "1000.50", account="CMD-1"),
            line("C2", "2026-01-15", "20.00", account="NOPE"),
            line("C3", "2026-01-15", "abc", account="CMD-1"),
        ],
    )

    output = run(str(path), "--source", "ICBC Shanghai", "--date", "2026-03-20")

    assert "imported        3 lines           1020.50" in output
    assert "posted          1 lines           1000.50" in output
    assert "suspense        1 lines             20.00" in output
    assert "rejected        1 lines              0.00" in output
    assert "imported = posted + suspense + rejected: reconciles" in output
    assert "line 4 [amount]: 'abc' is not an amount." in output
    assert Payment.objects.get(reference="icbc-sh:C1").amount.to_eng_string() == "1000.50"


def test_the_same_file_again_is_reported_and_posts_nothing(tmp_path):
    make_debt(account_number="CMD-2")
    StatementSourceFactory(code="boc")
    path = write_csv(tmp_path / "s.csv", [line("C1", "2026-01-15", account="CMD-2")])
    run(str(path), "--source", "boc", "--date", "2026-03-20")

    output = run(str(path), "--source", "boc", "--date", "2026-03-20")

    assert "Already imported as statement file #" in output
    assert StatementFile.objects.count() == 1 and Payment.objects.count() == 1


def test_an_unknown_source_is_an_error(tmp_path):
    path = write_csv(tmp_path / "s.csv", [line("C1")])
    with pytest.raises(CommandError, match="No statement source named 'nowhere'"):
        run(str(path), "--source", "nowhere")
