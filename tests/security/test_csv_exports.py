"""Every CSV the project produces is formula-safe (issue #14).

Cells that spreadsheets would run (``=HYPERLINK(…)``, ``=cmd|' /C calc'!A0``,
``@SUM(1)``, ``+1``, ``-2+3``, a leading tab) are planted in the data each
export reads; no cell of any export may start with a formula character
unless it is a plain number (``-12.50``), and the planted text must come
out quoted, so the test fails if an export bypasses ``backoffice.csvexport``.
"""

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from backoffice.audit import record
from backoffice.csvexport import FORMULA_START, safe_cell
from backoffice.models import AccessRecord
from cases.agencies.services import place_with_agency
from cases.placements.models import PlacementFile, PlacementLayout, PlacementReportLine
from cases.services.payments import post_payment
from cases.statements.models import StatementFile, StatementLine
from tests.agencies.conftest import case_with_debt, make_agency
from tests.factories import ProductFactory
from tests.placements.conftest import row, write_csv
from tests.statements.factories import StatementSourceFactory

pytestmark = pytest.mark.django_db

PAYLOADS = ['=HYPERLINK("http://x")', "=cmd|' /C calc'!A0", "@SUM(1)", "+1", "-2+3", "\t=1"]
PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def cells_of(text: str) -> list[str]:
    return [cell for line in csv.reader(io.StringIO(text.lstrip("\ufeff"))) for cell in line]


def assert_formula_safe(text: str, *, planted: list[str]) -> None:
    cells = cells_of(text)
    dangerous = [c for c in cells if c.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(c)]
    assert dangerous == []
    for payload in planted:
        assert any(cell == "'" + payload or cell.startswith("'" + payload) for cell in cells), payload


def body(response) -> str:
    assert response.status_code == 200, response
    assert response["Content-Type"].startswith("text/csv")
    if response.streaming:
        return b"".join(response.streaming_content).decode("utf-8")
    return response.content.decode("utf-8")


@pytest.fixture
def signed_in(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def placement_file(db):
    creditor = ProductFactory(name="Cash loan").creditor
    placement_file = PlacementFile.objects.create(
        creditor=creditor, file="placements/x.csv", original_name="x.csv", business_date=date(2026, 3, 1)
    )
    for n, payload in enumerate(PAYLOADS, start=2):
        PlacementReportLine.objects.create(
            placement_file=placement_file,
            line=n,
            column=payload[:60],
            account_number=payload,
            outcome=PlacementReportLine.Outcome.REJECTED,
            reason=payload,
        )
    return placement_file


def test_the_placement_report_in_admin_and_api_quotes_planted_formulas(signed_in, admin_user, placement_file):
    admin_csv = body(
        signed_in.get(reverse("admin:placements_placementfile_report", args=[placement_file.pk]))
    )
    api = APIClient()
    api.force_authenticate(admin_user)
    api_csv = body(api.get(f"/api/v1/placements/{placement_file.pk}/report/"))

    for text in (admin_csv, api_csv):
        assert_formula_safe(text, planted=PAYLOADS)


def test_the_import_placements_command_writes_a_formula_safe_report(tmp_path, db):
    creditor = ProductFactory(name="Cash loan").creditor
    PlacementLayout.objects.create(creditor=creditor)
    source = write_csv(
        tmp_path / "in.csv",
        [row(1, account_number=PAYLOADS[0], opened_on="nope"), row(2, account_number="@SUM(1)", phone="0")],
    )
    report = tmp_path / "report.csv"

    with pytest.raises(CommandError):  # rows were rejected; the report is written first
        call_command(
            "import_placements",
            str(source),
            "--creditor",
            str(creditor.pk),
            "--report",
            str(report),
            stdout=io.StringIO(),
        )

    assert_formula_safe(report.read_text(encoding="utf-8"), planted=[PAYLOADS[0], "@SUM(1)"])


def test_the_placement_layout_sample_quotes_a_planted_header(signed_in, db):
    creditor = ProductFactory(name="Cash loan").creditor
    layout = PlacementLayout.objects.create(creditor=creditor, col_account_number="=cmd|' /C calc'!A0")

    text = body(signed_in.get(reverse("admin:placements_placementlayout_sample", args=[layout.pk])))

    assert_formula_safe(text, planted=["=cmd|' /C calc'!A0"])


def test_the_statement_report_and_sample_quote_planted_formulas(signed_in, db):
    source = StatementSourceFactory(payer_name_column="@SUM(1)")
    statement = StatementFile.objects.create(
        source=source,
        file="statements/x.csv",
        original_name="x.csv",
        sha256="0" * 64,
        business_date=date(2026, 3, 1),
        status=StatementFile.Status.RECONCILED,
    )
    for n, payload in enumerate(PAYLOADS, start=2):
        StatementLine.objects.create(
            file=statement,
            source=source,
            line_number=n,
            transaction_id=payload,
            status=StatementLine.Status.REJECTED,
            column=payload[:60],
            reason=payload,
        )

    report = body(signed_in.get(reverse("admin:statements_statementfile_report", args=[statement.pk])))
    sample = body(signed_in.get(reverse("admin:statements_statementsource_sample", args=[source.pk])))

    assert_formula_safe(report, planted=PAYLOADS)
    assert_formula_safe(sample, planted=["@SUM(1)"])


def test_the_commission_statement_quotes_formulas_and_keeps_negative_amounts_as_numbers(
    signed_in, admin_user
):
    agency = make_agency('=HYPERLINK("http://x")', M2="12.50")
    case = case_with_debt(ProductFactory(), bucket="M2")
    place_with_agency(
        cases=[case],
        agency=agency,
        start_on=date(2026, 2, 1),
        end_on=date(2026, 4, 30),
        actor=admin_user,
        reason="book",
    )
    post_payment(
        debt=case.debts.get(), amount=Decimal("100.00"), received_on=date(2026, 2, 10), reference="-2+3"
    )
    url = reverse("admin:agencies_agency_commission", args=[agency.pk])

    text = body(signed_in.get(url, {"month": "2026-02", "format": "csv"}))

    assert_formula_safe(text, planted=['=HYPERLINK("http://x")', "-2+3"])


def test_the_audit_export_quotes_formulas_and_still_writes_its_access_record(signed_in, admin_user):
    creditor = ProductFactory().creditor
    for payload in PAYLOADS:
        creditor.name = f"creditor {payload}"
        record(creditor, actor=admin_user, reason=payload)
        creditor.save()

    text = body(signed_in.get(reverse("audit-trail-csv")))

    assert_formula_safe(text, planted=PAYLOADS)
    assert AccessRecord.objects.filter(user=admin_user, action=AccessRecord.Action.EXPORT_AUDIT_CSV).exists()


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("\uff1d1+1", "'\uff1d1+1"),
        ("-12.50", "-12.50"),
        ("-3", "-3"),
        (Decimal("-12.50"), "-12.50"),
        (Decimal("1E+3"), "1000"),
        (-7, "-7"),
        (None, ""),
        ("plain text", "plain text"),
    ],
)
def test_a_cell_is_quoted_unless_it_is_text_without_a_formula_start_or_a_plain_number(value, cell):
    assert safe_cell(value) == cell
