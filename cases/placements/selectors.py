"""Reads of placement files shared by admin, the API and the command."""

import csv
from collections.abc import Iterator

from cases.placements.models import PlacementFile, PlacementReportLine

REPORT_HEADER = ["line", "column", "account_number", "outcome", "reason"]


class _Echo:
    """A file-like object whose ``write`` returns the line (for streaming CSV)."""

    def write(self, value: str) -> str:
        return value


def report_lines(placement_file: PlacementFile):
    return PlacementReportLine.objects.filter(placement_file=placement_file).order_by("line", "id")


def report_csv(placement_file: PlacementFile) -> Iterator[str]:
    """The row report as CSV lines (UTF-8 with BOM so spreadsheets read Chinese),
    streamed from the database in chunks."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(REPORT_HEADER)
    rows = report_lines(placement_file).values_list("line", "column", "account_number", "outcome", "reason")
    for row in rows.iterator(chunk_size=2000):
        yield writer.writerow(row)


def report_filename(placement_file: PlacementFile) -> str:
    return f"placement-{placement_file.pk}-report.csv"
