"""Every download of personal data writes one access record (issue #15).

``DOWNLOADS`` is every view that hands out a CSV or a Metro 2 file (found by
``test_every_download_view_is_in_this_file``, which greps the apps for
``text/csv``, ``attachment``, ``FileResponse`` and ``StreamingHttpResponse``):
a user allowed to download gets the file and exactly one record with the
right action and object; a user who is not gets 403/404 and no record.
Layout samples (invented rows) write none; the two commands that write files
of personal data record them as the system user with the operator's name.
"""

import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from backoffice.audit import SYSTEM_USERNAME
from backoffice.models import AccessRecord
from cases.agencies.services import place_with_agency
from cases.bureau.services import generate_submission
from cases.placements.models import PlacementFile, PlacementLayout, PlacementReportLine
from cases.services.payments import post_payment
from cases.statements.models import StatementFile, StatementLine
from tests.agencies.conftest import case_with_debt, make_agency
from tests.factories import ProductFactory
from tests.placements.conftest import row, write_csv
from tests.statements.factories import StatementSourceFactory

pytest_plugins = ["tests.personas"]
pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]
Action = AccessRecord.Action


def _submission(world, personas):
    creditor = world.cases["A"].debts.first().creditor
    return generate_submission(
        creditor=creditor, period=date(2026, 1, 1), actor=personas["superuser"], generated_at=timezone.now()
    )


def _placement_file(world, personas):
    placement_file = PlacementFile.objects.create(
        creditor=world.cases["A"].debts.first().creditor,
        file="placements/x.csv",
        original_name="x.csv",
        business_date=date(2026, 3, 1),
    )
    for n in (2, 3, 4):
        PlacementReportLine.objects.create(
            placement_file=placement_file,
            line=n,
            column="phone",
            account_number=f"PL-{n}",
            outcome=PlacementReportLine.Outcome.REJECTED,
            reason="not a phone number",
        )
    return placement_file


def _statement_file(world, personas):
    source = StatementSourceFactory()
    statement = StatementFile.objects.create(
        source=source,
        file="statements/x.csv",
        original_name="x.csv",
        sha256="0" * 64,
        business_date=date(2026, 3, 1),
        status=StatementFile.Status.RECONCILED,
    )
    for n in (2, 3):
        StatementLine.objects.create(
            file=statement,
            source=source,
            line_number=n,
            transaction_id=f"TX{n}",
            status=StatementLine.Status.REJECTED,
            reason="no such account",
        )
    return statement


def _agency(world, personas):
    agency = make_agency("Records agency", M2="12.50")
    case = case_with_debt(ProductFactory(), bucket="M2")
    place_with_agency(
        cases=[case],
        agency=agency,
        start_on=date(2026, 2, 1),
        end_on=date(2026, 4, 30),
        actor=personas["superuser"],
        reason="book",
    )
    post_payment(
        debt=case.debts.get(), amount=Decimal("100.00"), received_on=date(2026, 2, 10), reference="PAY-1"
    )
    return agency


@dataclass(frozen=True)
class Download:
    make: object  # (world, personas) -> the object the record names, or None
    url: object  # (obj) -> (path, query)
    action: str
    api: bool = False
    rows: int | None = None  # data rows the record names (None: not checked)


DOWNLOADS = {
    "bureau submission file (admin)": Download(
        _submission,
        lambda obj: (reverse("admin:bureau_bureausubmission_download", args=[obj.pk]), {}),
        Action.DOWNLOAD_METRO2,
    ),
    "placement report (admin)": Download(
        _placement_file,
        lambda obj: (reverse("admin:placements_placementfile_report", args=[obj.pk]), {}),
        Action.EXPORT_CSV,
        rows=3,
    ),
    "placement report (API)": Download(
        _placement_file,
        lambda obj: (f"/api/v1/placements/{obj.pk}/report/", {}),
        Action.EXPORT_CSV,
        api=True,
        rows=3,
    ),
    "statement report (admin)": Download(
        _statement_file,
        lambda obj: (reverse("admin:statements_statementfile_report", args=[obj.pk]), {}),
        Action.EXPORT_CSV,
        rows=2,
    ),
    "agency commission statement (admin)": Download(
        _agency,
        lambda obj: (
            reverse("admin:agencies_agency_commission", args=[obj.pk]),
            {"month": "2026-02", "format": "csv"},
        ),
        Action.EXPORT_CSV,
        rows=1,
    ),
    "audit trail (admin)": Download(
        lambda world, personas: None,
        lambda obj: (reverse("audit-trail-csv"), {}),
        Action.EXPORT_AUDIT_CSV,
    ),
}


def _get(download: Download, user, obj):
    path, query = download.url(obj)
    client = APIClient()
    if download.api:
        client.force_authenticate(user)
    else:
        client.force_login(user)
    response = client.get(path, query)
    if response.status_code == 200 and response.streaming:
        b"".join(response.streaming_content)
    return response


@pytest.mark.parametrize("name", list(DOWNLOADS))
def test_a_download_by_an_allowed_user_writes_exactly_one_access_record(world, personas, name):
    download = DOWNLOADS[name]
    obj = download.make(world, personas)
    user = personas["supervisor"]
    before = set(AccessRecord.objects.values_list("pk", flat=True))

    response = _get(download, user, obj)

    assert response.status_code == 200, response
    new = AccessRecord.objects.exclude(pk__in=before)
    assert new.count() == 1
    record = new.get()
    assert (record.user, record.action) == (user, download.action)
    if obj is None:
        assert record.object_id == ""
    else:
        assert (record.app_label, record.model_name, record.object_id) == (
            obj._meta.app_label,
            obj._meta.model_name,
            str(obj.pk),
        )
    if download.rows is not None:
        assert f"rows={download.rows}" in record.detail


@pytest.mark.parametrize("name", list(DOWNLOADS))
@pytest.mark.parametrize("persona", ["collector", "outsider"])
def test_a_user_not_allowed_gets_no_file_and_no_record(world, personas, name, persona):
    download = DOWNLOADS[name]
    obj = download.make(world, personas)
    before = AccessRecord.objects.count()

    response = _get(download, personas[persona], obj)

    assert response.status_code in (403, 404)
    assert AccessRecord.objects.count() == before


def test_the_metro2_record_names_the_file_and_its_accounts_never_their_data(world, personas):
    submission = _submission(world, personas)
    customer = world.cases["A"].customer

    _get(DOWNLOADS["bureau submission file (admin)"], personas["supervisor"], submission)

    record = AccessRecord.objects.get(action=Action.DOWNLOAD_METRO2)
    assert record.detail == f"{submission.file_name}; rows={submission.base_records}"
    assert customer.national_id not in record.detail and customer.name not in record.detail


def test_layout_samples_hold_no_personal_data_and_write_no_record(world, personas):
    creditor = world.cases["A"].debts.first().creditor
    layout = PlacementLayout.objects.create(creditor=creditor)
    source = StatementSourceFactory()
    client = APIClient()
    client.force_login(personas["superuser"])

    for url in (
        reverse("admin:placements_placementlayout_sample", args=[layout.pk]),
        reverse("admin:statements_statementsource_sample", args=[source.pk]),
    ):
        assert client.get(url).status_code == 200

    assert not AccessRecord.objects.exists()


def test_import_placements_report_is_recorded_as_the_system_user_with_the_operator(tmp_path, db):
    creditor = ProductFactory(name="Cash loan").creditor
    PlacementLayout.objects.create(creditor=creditor)
    source = write_csv(tmp_path / "in.csv", [row(1, opened_on="nope"), row(2)])
    report = tmp_path / "report.csv"

    with pytest.raises(CommandError):  # a row was rejected; the report is written first
        call_command(
            "import_placements",
            str(source),
            "--creditor",
            str(creditor.pk),
            "--report",
            str(report),
            stdout=io.StringIO(),
        )

    record = AccessRecord.objects.get()
    placement_file = PlacementFile.objects.get()
    assert (record.user.username, record.action) == (SYSTEM_USERNAME, Action.EXPORT_CSV)
    assert (record.model_name, record.object_id) == ("placementfile", str(placement_file.pk))
    assert record.detail.startswith("report.csv; rows=")
    assert "import_placements --report, operator " in record.detail


def test_metro2_export_to_a_file_is_recorded_as_the_system_user_with_the_operator(world, tmp_path):
    creditor = world.cases["A"].debts.first().creditor
    out = tmp_path / "m2.txt"

    call_command(
        "metro2_export",
        "--creditor",
        str(creditor.pk),
        "--period",
        "2026-01",
        "--out",
        str(out),
        stdout=io.StringIO(),
    )

    assert out.read_text(encoding="ascii").startswith("0426HEADER")
    record = AccessRecord.objects.get()
    assert (record.user.username, record.action) == (SYSTEM_USERNAME, Action.DOWNLOAD_METRO2)
    assert (record.model_name, record.object_id) == ("creditor", str(creditor.pk))
    assert re.fullmatch(
        r"m2\.txt; rows=\d+; via metro2_export --out --period 2026-01, operator .+", record.detail
    )


# Files that hand out a file, and which entry of DOWNLOADS covers each; the
# rest say why they need none here.
COVERED = {
    "backoffice/views/audit.py": ["audit trail (admin)"],
    "cases/agencies/admin.py": ["agency commission statement (admin)"],
    "cases/bureau/admin.py": ["bureau submission file (admin)"],
    "cases/placements/admin.py": ["placement report (admin)"],  # and the layout sample (no data)
    "cases/placements/api/views.py": ["placement report (API)"],
    "cases/statements/admin.py": ["statement report (admin)"],  # and the source sample (no data)
    # Letters write DOWNLOAD_LETTER / PREVIEW_LETTER (tests/cases/test_letters*).
    "cases/admin/letters.py": [],
    # A payment claim's evidence file, not a CSV or Metro 2 file (issue #14's screen).
    "cases/admin/claims.py": [],
    # The legal calendar feed (inline text/calendar of hearings and deadlines).
    "legal/calendar.py": [],
}
_DOWNLOAD_MARKERS = re.compile(r"text/csv|attachment|FileResponse|StreamingHttpResponse|Content-Disposition")


def test_every_download_view_is_in_this_file():
    found = set()
    for app in ("backoffice", "cases", "customers", "legal"):
        for path in (REPO / app).rglob("*.py"):
            relative = path.relative_to(REPO).as_posix()
            if "/migrations/" in relative or relative == "backoffice/csvexport.py":
                continue
            if _DOWNLOAD_MARKERS.search(path.read_text(encoding="utf-8")):
                found.add(relative)
    assert found == set(COVERED), "a new download view: add it to DOWNLOADS and COVERED"
    assert {name for names in COVERED.values() for name in names} == set(DOWNLOADS)
