"""Malformed files give a clear error and write nothing (issue #9, "Bad input");
UTF-8, GBK and XLSX files all load."""

from datetime import date

import pytest
from django.apps import apps
from openpyxl import Workbook

from backoffice.filereaders import FileRejected
from cases.models import Debt
from cases.placements.services import submit_placement_file
from customers.models import Customer
from tests.factories import UserFactory
from tests.placements.conftest import HEADER, row

pytestmark = pytest.mark.django_db


def every_table() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def submit(creditor, path, **kwargs):
    return submit_placement_file(
        creditor=creditor,
        path=path,
        original_name=path.name,
        actor=kwargs.pop("actor", None) or UserFactory(username="uploader"),
        business_date=date(2026, 5, 1),
        background=False,
        **kwargs,
    )


def write_xlsx(path, rows, header=HEADER):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for values in rows:
        sheet.append([values.get(name) for name in header])
    workbook.save(path)
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_utf8_and_gbk_files_both_load(creditor, csv_file, encoding):
    placement_file = submit(creditor, csv_file([row(1), row(2)], encoding=encoding)).placement_file

    assert placement_file.status == "done", placement_file.error
    assert placement_file.encoding == ("GBK" if encoding == "gbk" else "UTF-8")
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["客户1", "客户2"]
    assert Debt.objects.get(account_number="PL-000001").customer.contact_points.get(kind="address").value == (
        "北京市东城区1号"
    )


def test_an_xlsx_file_with_real_dates_and_numbers_loads(creditor, tmp_path):
    values = row(1, opened_on=date(2026, 1, 1), total=3150, date_of_birth=date(1990, 1, 1))
    values["phone"] = 13800000001  # a phone typed as a number
    path = write_xlsx(tmp_path / "accounts.xlsx", [values])

    placement_file = submit(creditor, path).placement_file

    assert placement_file.status == "done", list(placement_file.report_lines.values("reason"))
    assert placement_file.kind == "xlsx"
    debt = Debt.objects.get()
    assert debt.opened_on == date(2026, 1, 1)
    assert debt.customer.date_of_birth == date(1990, 1, 1)
    assert debt.customer.contact_points.get(kind="phone").value == "+8613800000001"


def _refused(creditor, path, code):
    user = UserFactory(username="uploader")
    before = every_table()
    with pytest.raises(FileRejected) as caught:
        submit(creditor, path, actor=user)
    assert caught.value.code == code
    assert every_table() == before
    return caught.value


def test_a_missing_column_is_refused_and_nothing_is_written(creditor, csv_file):
    header = [h for h in HEADER if h != "product"]
    error = _refused(creditor, csv_file([row(1)], header=header), "missing_column")
    assert "product" in error.messages[0]


def test_a_file_without_any_schedule_column_names_the_schedule(creditor, csv_file):
    header = [h for h in HEADER if h != "schedule"]
    error = _refused(creditor, csv_file([row(1)], header=header), "missing_column")
    assert "schedule" in error.messages[0]


def test_a_truncated_xlsx_is_refused_and_nothing_is_written(creditor, tmp_path):
    whole = write_xlsx(tmp_path / "whole.xlsx", [row(n) for n in range(1, 50)])
    data = whole.read_bytes()
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(data[: len(data) // 2])
    _refused(creditor, cut, "bad_xlsx")


def test_an_empty_file_is_refused_and_nothing_is_written(creditor, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    _refused(creditor, empty, "empty")


def test_a_header_without_rows_is_refused_and_nothing_is_written(creditor, tmp_path):
    path = tmp_path / "header.csv"
    path.write_text(",".join(HEADER) + "\n", encoding="utf-8")
    _refused(creditor, path, "no_rows")


def test_a_file_above_the_size_limit_is_refused_and_nothing_is_written(creditor, csv_file, settings):
    settings.IMPORT_MAX_BYTES = 1024
    error = _refused(creditor, csv_file([row(n) for n in range(1, 20)]), "too_large")
    assert "1,024" in error.messages[0]


def test_a_file_in_neither_utf8_nor_gbk_is_refused_and_nothing_is_written(creditor, tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes((",".join(HEADER) + "\n").encode() + b"\xff\xfe\xff\xfe\x80\x80\n")
    _refused(creditor, path, "encoding")
