"""``manage.py import_placements FILE --creditor ID [--dry-run]``."""

import pytest
from django.core.management import CommandError, call_command

from cases.models import Debt
from cases.placements.models import PlacementFile
from tests.placements.conftest import row

pytestmark = pytest.mark.django_db


def run(*args):
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command("import_placements", *args, stdout=out, stderr=err)
    return out.getvalue()


def test_the_command_imports_a_file_and_prints_the_counts(creditor, csv_file):
    output = run(str(csv_file([row(1), row(2)])), "--creditor", str(creditor.pk))

    assert "Rows 2, loaded 2, rejected 0" in output
    assert Debt.objects.count() == 2


def test_the_creditor_may_be_named_by_short_code(creditor, csv_file):
    run(str(csv_file([row(1)])), "--creditor", creditor.short_code)

    assert Debt.objects.count() == 1


def test_a_rejected_row_fails_the_command_with_the_report(creditor, csv_file, tmp_path):
    path = csv_file([row(1), row(2, phone="1")])
    report = tmp_path / "report.csv"
    from io import StringIO

    out = StringIO()
    with pytest.raises(CommandError, match="rejected"):
        call_command(
            "import_placements",
            str(path),
            "--creditor",
            str(creditor.pk),
            "--report",
            str(report),
            stdout=out,
        )

    assert "line 3 [phone] PL-000002" in out.getvalue()
    assert not Debt.objects.exists()
    assert "PL-000002" in report.read_text(encoding="utf-8-sig")


def test_a_dry_run_loads_nothing(creditor, csv_file):
    output = run(str(csv_file([row(1)])), "--creditor", str(creditor.pk), "--dry-run")

    assert "(dry run)" in output
    assert not Debt.objects.exists()
    assert PlacementFile.objects.get().dry_run


def test_valid_rows_mode_still_exits_non_zero_when_a_row_was_rejected(creditor, csv_file):
    with pytest.raises(CommandError):
        run(
            str(csv_file([row(1), row(2, product="x")])),
            "--creditor",
            str(creditor.pk),
            "--mode",
            "valid_rows",
        )
    assert Debt.objects.count() == 1


def test_the_same_file_again_says_so_and_loads_nothing(creditor, csv_file):
    path = str(csv_file([row(1)]))
    run(path, "--creditor", str(creditor.pk))

    output = run(path, "--creditor", str(creditor.pk))

    assert "already imported" in output
    assert Debt.objects.count() == 1


def test_an_unreadable_file_fails_with_a_clear_message(creditor, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(CommandError, match="empty"):
        run(str(empty), "--creditor", str(creditor.pk))
    assert not PlacementFile.objects.exists()


def test_an_unknown_creditor_fails(csv_file):
    with pytest.raises(CommandError, match="Unknown creditor"):
        run(str(csv_file([row(1)])), "--creditor", "999999")
