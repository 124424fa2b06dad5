"""Reads of placement files shared by admin, the API and the command."""

from collections.abc import Iterator

from backoffice.csvexport import streamed
from cases.placements.models import PlacementFile, PlacementReportLine

REPORT_HEADER = ["line", "column", "account_number", "outcome", "reason"]


def report_lines(placement_file: PlacementFile):
    return PlacementReportLine.objects.filter(placement_file=placement_file).order_by("line", "id")


def report_csv(placement_file: PlacementFile) -> Iterator[str]:
    """The row report as CSV lines (UTF-8 with BOM so spreadsheets read Chinese),
    streamed from the database in chunks; every cell formula-safe
    (``backoffice.csvexport``: account numbers and reasons come from the file)."""
    yield "\ufeff" + next(streamed([REPORT_HEADER]))
    rows = report_lines(placement_file).values_list("line", "column", "account_number", "outcome", "reason")
    yield from streamed(rows.iterator(chunk_size=2000))


def report_filename(placement_file: PlacementFile) -> str:
    return f"placement-{placement_file.pk}-report.csv"
