"""Fixtures for placement files: a creditor with a product, files written on the fly."""

import csv
from pathlib import Path

import pytest

from cases.placements.models import PlacementLayout
from tests.dispatch_fixtures import worker_runs_when_enqueued, workers_idle  # noqa: F401
from tests.factories import ProductFactory

HEADER = [
    "account_number",
    "product",
    "opened_on",
    "name",
    "kind",
    "national_id",
    "date_of_birth",
    "preferred_language",
    "jurisdiction",
    "time_zone",
    "phone",
    "email",
    "address",
    "schedule",
    "total",
]


def row(n: int, **overrides) -> dict:
    """A valid row: three instalments of 1000.00 principal + 50.00 interest."""
    values = {
        "account_number": f"PL-{n:06d}",
        "product": "Cash loan",
        "opened_on": "2026-01-01",
        "name": f"客户{n}",
        "kind": "person",
        "national_id": f"1101011990{n:08d}",
        "date_of_birth": "1990-01-01",
        "preferred_language": "zh-hans",
        "jurisdiction": "CN",
        "time_zone": "Asia/Shanghai",
        "phone": f"138{n:08d}",
        "email": f"c{n}@example.com",
        "address": f"北京市东城区{n}号",
        "schedule": "2026-01-31:1000.00:50.00;2026-03-02:1000.00:50.00;2026-04-01:1000.00:50.00",
        "total": "3150.00",
    }
    values.update(overrides)
    return values


def write_csv(path: Path, rows: list[dict], *, header=None, encoding="utf-8") -> Path:
    header = header or list(rows[0]) if rows else header or HEADER
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def product(db):
    product = ProductFactory(name="Cash loan")
    return product


@pytest.fixture
def creditor(product):
    return product.creditor


@pytest.fixture
def layout(creditor):
    return PlacementLayout.objects.create(creditor=creditor)


@pytest.fixture
def csv_file(tmp_path):
    """``csv_file(rows, name=…, encoding=…)`` → path of a CSV with those rows."""
    counter = {"n": 0}

    def make(rows, *, name=None, header=None, encoding="utf-8"):
        counter["n"] += 1
        return write_csv(
            tmp_path / (name or f"file{counter['n']}.csv"), rows, header=header, encoding=encoding
        )

    return make
