"""Uploads are bounded and never imported inside a request (issue #14).

The replay: a ~100 KB XLSX that expands to 3,000,000 rows is refused with a
400 before openpyxl reads a row; CSVs over ``IMPORT_MAX_ROWS`` too. Imports
run in Celery tasks with time limits; files stuck validating/loading (or
queued/importing) are failed by the sweeper so the same bytes can be sent
again; no reason shows a server path.
"""

import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from backoffice.filereaders import FileRejected, inspect_table, public_error
from cases.placements import services as placement_services
from cases.placements.models import PlacementFile, PlacementLayout
from cases.placements.tasks import fail_stuck_placement_files_task, process_placement_file_task
from cases.statements.models import StatementFile
from cases.statements.tasks import fail_stuck_statement_files_task, process_statement_file_task
from tests.dispatch_fixtures import worker_runs_when_enqueued, workers_idle  # noqa: F401 (fixtures)
from tests.factories import ProductFactory, make_debt
from tests.placements.conftest import row, write_csv
from tests.statements.factories import StatementSourceFactory, line
from tests.statements.factories import write_csv as write_statement

pytestmark = pytest.mark.django_db

PLACEMENTS = "/api/v1/placements/"
STATEMENTS = "/api/v1/statements/"
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)
_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override '
        'PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType='
        '"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
        'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}


def xlsx_with_rows(path: Path, rows: int, *, dimension: bool = True, filler: int = 0) -> Path:
    """A hand-built XLSX whose one sheet has a header and ``rows`` identical
    data rows, written as a stream (compresses about 1000:1)."""
    header = '<row><c t="inlineStr"><is><t>account_number</t></is></c></row>'
    data = '<row><c t="inlineStr"><is><t>A</t></is></c></row>'
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in _PARTS.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            head = _SHEET_HEAD + (f'<dimension ref="A1:A{rows + 1}"/>' if dimension else "")
            sheet.write((head + "<sheetData>" + header).encode())
            block = (data * 10_000).encode()
            for _ in range(rows // 10_000):
                sheet.write(block)
            sheet.write((data * (rows % 10_000)).encode())
            sheet.write(b"</sheetData></worksheet>")
        if filler:
            archive.writestr("xl/media/filler.bin", b"\0" * filler)
    return path


@pytest.fixture
def creditor(db):
    creditor = ProductFactory(name="Cash loan").creditor
    PlacementLayout.objects.create(creditor=creditor)
    return creditor


@pytest.fixture
def no_row_is_parsed(monkeypatch):
    """openpyxl must not even open a refused file."""
    import openpyxl

    def forbidden(*args, **kwargs):
        raise AssertionError("openpyxl opened a file that should have been refused first")

    monkeypatch.setattr(openpyxl, "load_workbook", forbidden)


def post(api, url, path: Path, **fields):
    with open(path, "rb") as handle:
        return api.post(url, {"file": handle, **fields}, format="multipart")


def test_a_small_xlsx_that_expands_to_three_million_rows_is_refused_with_400(
    api, creditor, tmp_path, no_row_is_parsed
):
    bomb = xlsx_with_rows(tmp_path / "bomb.xlsx", 3_000_000)
    assert bomb.stat().st_size < 600 * 1024

    response = post(api, PLACEMENTS, bomb, creditor=creditor.pk)

    assert response.status_code == 400
    assert "more than 1,000,000 rows" in str(response.json())
    assert not PlacementFile.objects.exists()


def test_a_sheet_that_hides_its_row_count_is_counted_up_to_the_limit_and_refused(
    api, tmp_path, no_row_is_parsed, settings
):
    settings.IMPORT_MAX_ROWS = 50_000
    source = StatementSourceFactory()
    bomb = xlsx_with_rows(tmp_path / "bomb.xlsx", 200_000, dimension=False)

    response = post(api, STATEMENTS, bomb, source=source.pk)

    assert response.status_code == 400
    assert "more than 50,000 rows" in str(response.json())
    assert not StatementFile.objects.exists()


def test_an_xlsx_that_expands_past_the_byte_limit_is_refused(tmp_path, settings, no_row_is_parsed):
    settings.IMPORT_MAX_UNCOMPRESSED_BYTES = 1024 * 1024
    path = xlsx_with_rows(tmp_path / "big.xlsx", 10, filler=2 * 1024 * 1024)

    with pytest.raises(FileRejected) as refused:
        inspect_table(path)

    assert refused.value.code == "too_large" and "expands to" in refused.value.messages[0]


def test_an_xlsx_within_the_bounds_is_still_read(tmp_path):
    table = inspect_table(xlsx_with_rows(tmp_path / "ok.xlsx", 3), required_columns=["account_number"])

    assert table.kind == "xlsx" and table.header == ("account_number",)


def test_a_csv_over_the_row_limit_is_refused_and_one_at_the_limit_is_accepted(
    api, creditor, tmp_path, settings
):
    settings.IMPORT_MAX_ROWS = 3
    over = write_csv(tmp_path / "over.csv", [row(n) for n in range(1, 5)])
    at = write_csv(tmp_path / "at.csv", [row(n) for n in range(1, 4)])

    refused = post(api, PLACEMENTS, over, creditor=creditor.pk)
    accepted = post(api, PLACEMENTS, at, creditor=creditor.pk)

    assert refused.status_code == 400 and "more than 3 rows" in str(refused.json())
    assert accepted.status_code == 201 and accepted.json()["loaded"] == 3


def test_import_tasks_run_with_the_time_limits_of_settings():
    for task in (process_placement_file_task, process_statement_file_task):
        assert task.time_limit == settings.IMPORT_TASK_TIME_LIMIT
        assert task.soft_time_limit == settings.IMPORT_TASK_SOFT_TIME_LIMIT
    assert settings.IMPORT_STUCK_AFTER_MINUTES * 60 > settings.IMPORT_TASK_TIME_LIMIT


@pytest.mark.usefixtures("workers_idle")
def test_uploads_through_the_api_are_only_queued_for_a_worker(api, creditor, tmp_path):
    make_debt(account_number="Q-1")
    placement = post(api, PLACEMENTS, write_csv(tmp_path / "p.csv", [row(1)]), creditor=creditor.pk)
    statement = post(
        api,
        STATEMENTS,
        write_statement(tmp_path / "s.csv", [line("T1", account="Q-1")]),
        source=StatementSourceFactory().pk,
        business_date="2026-03-20",
    )

    assert (placement.status_code, placement.json()["status"]) == (202, "queued")
    assert (statement.status_code, statement.json()["status"]) == (202, "queued")
    assert statement.json()["line_count"] == 0


def test_a_task_that_runs_out_of_time_fails_the_file_with_the_reason(creditor, tmp_path, monkeypatch):
    def slow(*args, **kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(placement_services, "_process", slow)
    submission = placement_services.submit_placement_file(
        creditor=creditor,
        path=write_csv(tmp_path / "p.csv", [row(1)]),
        original_name="p.csv",
        actor=None,
        business_date=date(2026, 3, 1),
    )

    placement_file = PlacementFile.objects.get(pk=submission.placement_file.pk)
    assert placement_file.status == "failed"
    assert f"longer than {settings.IMPORT_TASK_SOFT_TIME_LIMIT} seconds" in placement_file.error


@pytest.mark.usefixtures("workers_idle")
def test_the_sweeper_fails_stuck_placement_files_and_the_same_bytes_can_be_sent_again(
    api, creditor, tmp_path
):
    path = write_csv(tmp_path / "p.csv", [row(1)])
    first = post(api, PLACEMENTS, path, creditor=creditor.pk).json()
    long_ago = timezone.now() - timedelta(minutes=settings.IMPORT_STUCK_AFTER_MINUTES + 1)
    PlacementFile.objects.filter(pk=first["id"]).update(status="validating", started_at=long_ago)
    fresh = post(api, PLACEMENTS, write_csv(tmp_path / "q.csv", [row(2)]), creditor=creditor.pk).json()
    PlacementFile.objects.filter(pk=fresh["id"]).update(status="loading", started_at=timezone.now())
    blocked = post(api, PLACEMENTS, path, creditor=creditor.pk)
    assert blocked.status_code == 200 and blocked.json()["id"] == first["id"]

    assert fail_stuck_placement_files_task() == {"failed": 1}

    stuck = PlacementFile.objects.get(pk=first["id"])
    assert stuck.status == "failed" and "did not finish within" in stuck.error
    assert stuck.history.first().history_change_reason == "placement file stuck: failed by the sweeper"
    assert PlacementFile.objects.get(pk=fresh["id"]).status == "loading"
    again = post(api, PLACEMENTS, path, creditor=creditor.pk)
    assert again.status_code == 202 and again.json()["id"] != first["id"]


@pytest.mark.usefixtures("workers_idle")
def test_the_sweeper_fails_stuck_statement_files_and_the_same_bytes_can_be_sent_again(api, tmp_path):
    source = StatementSourceFactory()
    path = write_statement(tmp_path / "s.csv", [line("T1", account="NONE")])
    first = post(api, STATEMENTS, path, source=source.pk, business_date="2026-03-20").json()
    long_ago = timezone.now() - timedelta(minutes=settings.IMPORT_STUCK_AFTER_MINUTES + 1)
    StatementFile.objects.filter(pk=first["id"]).update(status="importing", started_at=long_ago)

    assert fail_stuck_statement_files_task() == {"failed": 1}

    stuck = StatementFile.objects.get(pk=first["id"])
    assert stuck.status == "failed" and "did not finish within" in stuck.error
    assert stuck.line_count == 0
    again = post(api, STATEMENTS, path, source=source.pk, business_date="2026-03-20")
    assert again.status_code == 202 and again.json()["id"] != first["id"]
    process_statement_file_task(again.json()["id"])
    assert StatementFile.objects.get(pk=again.json()["id"]).status == "open"


def test_beat_runs_both_sweepers():
    tasks = set(PeriodicTask.objects.filter(enabled=True).values_list("task", flat=True))

    assert {"cases.placements.fail_stuck_files", "statements.fail_stuck_files"} <= tasks


@pytest.mark.usefixtures("workers_idle")
def test_reasons_never_show_server_paths(api, creditor, tmp_path):
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(xlsx_with_rows(tmp_path / "whole.xlsx", 5).read_bytes()[:300])
    refused = post(api, PLACEMENTS, damaged, creditor=creditor.pk)
    # A stored file that vanished before its worker ran (placement and statement).
    placement = post(api, PLACEMENTS, write_csv(tmp_path / "p.csv", [row(1)]), creditor=creditor.pk).json()
    statement = post(
        api,
        STATEMENTS,
        write_statement(tmp_path / "s.csv", [line("T1")]),
        source=StatementSourceFactory().pk,
        business_date="2026-03-20",
    ).json()
    for stored in (PlacementFile.objects.get().file, StatementFile.objects.get().file):
        Path(stored.path).unlink()
    process_placement_file_task(placement["id"])
    process_statement_file_task(statement["id"])

    texts = [
        str(refused.json()),
        PlacementFile.objects.get().error,
        StatementFile.objects.get().error,
        str(api.get(f"{PLACEMENTS}{placement['id']}/").json()),
        str(api.get(f"{STATEMENTS}{statement['id']}/").json()),
    ]
    assert refused.status_code == 400
    assert PlacementFile.objects.get().status == "failed" and StatementFile.objects.get().status == "failed"
    for text in texts:
        assert "/tmp" not in text and str(settings.MEDIA_ROOT) not in text and str(tmp_path) not in text
    assert "FileNotFoundError" in PlacementFile.objects.get().error


def test_public_error_replaces_paths_and_keeps_other_text():
    text = "[Errno 2] No such file or directory: '/srv/media/placements/2026/03/x.xlsx' (C:\\data\\y.csv)"

    assert public_error(text) == "[Errno 2] No such file or directory: '<file>' (<file>)"
    assert public_error("dates 2026/03/01 and 1/2 stay") == "dates 2026/03/01 and 1/2 stay"
