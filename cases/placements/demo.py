"""Demo data for placement files: a layout per creditor and one imported file.

``seed(business_date=…)`` gives every creditor the default column layout
(so admin's "sample file" link works), then imports a small generated
placement file for the first creditor through the real service, with one
bad row in ``valid_rows`` mode so the file's page shows a report line.
Running it twice changes nothing (layouts exist; the same bytes are not
imported twice).
"""

import csv
import os
import tempfile
from datetime import date, timedelta

from backoffice.audit import system_user
from cases.models import Creditor
from cases.placements.models import PlacementFile, PlacementLayout
from cases.placements.services import submit_placement_file

HEADER = [
    "account_number",
    "product",
    "opened_on",
    "name",
    "national_id",
    "phone",
    "email",
    "schedule",
    "total",
]


def _rows(product_name: str, business_date: date, count: int) -> list[list[str]]:
    opened = business_date - timedelta(days=90)
    dues = [opened + timedelta(days=30 * k) for k in (1, 2, 3)]
    rows = []
    for n in range(1, count + 1):
        principal = 800 + 10 * n
        schedule = ";".join(f"{d.isoformat()}:{principal}.00:40.00" for d in dues)
        rows.append(
            [
                f"DEMO-PL-{n:04d}",
                product_name,
                opened.isoformat(),
                f"示例客户{n}",
                f"{440301199001010000 + n}",
                f"139{n:08d}",
                f"demo{n}@example.com",
                schedule,
                f"{3 * principal + 120}.00",
            ]
        )
    # One row that does not add up, to show the report.
    rows[-1][-1] = "1.00"
    return rows


def seed(*, business_date: date, rows: int = 25) -> PlacementFile | None:
    for creditor in Creditor.objects.filter(placement_layout__isnull=True):
        PlacementLayout.objects.create(creditor=creditor)
    creditor = Creditor.objects.order_by("id").first()
    product = creditor.products.order_by("id").first() if creditor else None
    if product is None:
        return None
    handle = tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, encoding="utf-8", newline="")
    try:
        with handle:
            writer = csv.writer(handle)
            writer.writerow(HEADER)
            writer.writerows(_rows(product.name, business_date, rows))
        return submit_placement_file(
            creditor=creditor,
            path=handle.name,
            original_name="demo-placements.csv",
            mode=PlacementFile.Mode.VALID_ROWS,
            actor=system_user(),
            business_date=business_date,
            background=False,
        ).placement_file
    finally:
        os.unlink(handle.name)
