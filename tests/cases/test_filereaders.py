"""``backoffice.filereaders``: what a placement or statement file can be, read
directly (encodings, BOM, XLSX values, damage, headers, blank lines, line numbers)."""

import datetime
import os

import pytest
from openpyxl import Workbook

from backoffice.filereaders import FileRejected, detect_encoding, inspect_table, iter_rows, sha256_of


def write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def rows_of(path, **kwargs):
    return list(iter_rows(inspect_table(path, **kwargs)))


def test_utf8_file_reads_with_its_encoding_and_hash(tmp_path):
    path = write(tmp_path, "a.csv", "name,city\n张伟,北京\n".encode())

    table = inspect_table(path, required_columns=["name"])

    assert (table.kind, table.encoding, table.encoding_name) == ("csv", "utf-8", "UTF-8")
    assert table.header == ("name", "city")
    assert table.sha256 == sha256_of(path)
    assert rows_of(path) == [(2, {"name": "张伟", "city": "北京"})]


def test_gbk_file_is_detected_and_decoded(tmp_path):
    path = write(tmp_path, "g.csv", "姓名,城市\n张伟,北京\n".encode("gbk"))

    table = inspect_table(path)

    assert table.encoding_name == "GBK"
    assert rows_of(path) == [(2, {"姓名": "张伟", "城市": "北京"})]


def test_a_utf8_byte_order_mark_is_dropped_from_the_first_header(tmp_path):
    path = write(tmp_path, "bom.csv", "\ufeffaccount,amount\nA1,10.50\n".encode())

    assert inspect_table(path, required_columns=["account"]).header == ("account", "amount")
    assert rows_of(path) == [(2, {"account": "A1", "amount": "10.50"})]


def test_bytes_valid_in_neither_encoding_are_refused(tmp_path):
    path = write(tmp_path, "bad.csv", b"a,b\n\xff\xff,\x80\n")

    with pytest.raises(FileRejected) as caught:
        detect_encoding(path)
    assert caught.value.code == "encoding"


def test_blank_lines_are_skipped_and_line_numbers_stay_the_editors(tmp_path):
    path = write(tmp_path, "blank.csv", b"a,b\n1,2\n\n,\n3,4\n")

    assert rows_of(path) == [(2, {"a": "1", "b": "2"}), (5, {"a": "3", "b": "4"})]


def test_a_quoted_cell_over_two_lines_keeps_the_next_rows_line_number(tmp_path):
    path = write(tmp_path, "multi.csv", b'a,b\n"x\ny",1\nz,2\n')

    assert rows_of(path) == [(2, {"a": "x\ny", "b": "1"}), (4, {"a": "z", "b": "2"})]


def test_short_rows_are_padded_and_extra_cells_ignored(tmp_path):
    path = write(tmp_path, "ragged.csv", b"a,b,c\n1\n1,2,3,4\n")

    assert rows_of(path) == [(2, {"a": "1", "b": "", "c": ""}), (3, {"a": "1", "b": "2", "c": "3"})]


def test_a_missing_required_column_is_named(tmp_path):
    path = write(tmp_path, "m.csv", b"a,b\n1,2\n")

    with pytest.raises(FileRejected) as caught:
        inspect_table(path, required_columns=["a", "amount"])
    assert caught.value.code == "missing_column"
    assert "amount" in caught.value.messages[0]


def test_a_repeated_header_is_refused(tmp_path):
    path = write(tmp_path, "r.csv", b"a,b,a\n1,2,3\n")

    with pytest.raises(FileRejected) as caught:
        inspect_table(path)
    assert caught.value.code == "repeated_column"


def test_an_empty_file_is_refused(tmp_path):
    with pytest.raises(FileRejected) as caught:
        inspect_table(write(tmp_path, "e.csv", b""))
    assert caught.value.code == "empty"


def test_a_file_over_the_limit_is_refused(tmp_path, settings):
    settings.IMPORT_MAX_BYTES = 10
    with pytest.raises(FileRejected) as caught:
        inspect_table(write(tmp_path, "big.csv", b"a,b\n" + b"1,2\n" * 10))
    assert caught.value.code == "too_large"


def _xlsx(tmp_path, rows, name="t.xlsx"):
    workbook = Workbook()
    sheet = workbook.active
    for values in rows:
        sheet.append(values)
    path = tmp_path / name
    workbook.save(path)
    return path


def test_xlsx_numbers_and_dates_read_as_typed_text(tmp_path):
    path = _xlsx(
        tmp_path,
        [
            ["account", "amount", "whole", "opened", "at", "flag", "empty"],
            [
                "A1",
                1413.5,
                3000,
                datetime.date(2026, 1, 31),
                datetime.datetime(2026, 1, 31, 9, 30),
                True,
                None,
            ],
            [None, None, None, None, None, None, None],
            ["A2", 0.1, 12.0, datetime.datetime(2026, 2, 1), None, False, None],
        ],
    )

    table = inspect_table(path, required_columns=["account"])

    assert table.kind == "xlsx" and table.encoding is None
    assert rows_of(path) == [
        (
            2,
            {
                "account": "A1",
                "amount": "1413.5",
                "whole": "3000",
                "opened": "2026-01-31",
                "at": "2026-01-31T09:30:00",
                "flag": "true",
                "empty": "",
            },
        ),
        (
            4,
            {
                "account": "A2",
                "amount": "0.1",
                "whole": "12",
                "opened": "2026-02-01",
                "at": "",
                "flag": "false",
                "empty": "",
            },
        ),
    ]


def test_a_truncated_xlsx_is_refused(tmp_path):
    path = _xlsx(tmp_path, [["a", "b"], *[[n, n * 2] for n in range(200)]])
    data = path.read_bytes()
    cut = write(tmp_path, "cut.xlsx", data[: len(data) - 200])

    with pytest.raises(FileRejected) as caught:
        list(iter_rows(inspect_table(cut)))
    assert caught.value.code == "bad_xlsx"


def test_an_xlsx_with_a_repeated_header_is_refused(tmp_path):
    path = _xlsx(tmp_path, [["a", "a"], [1, 2]])

    with pytest.raises(FileRejected) as caught:
        inspect_table(path)
    assert caught.value.code == "repeated_column"


def test_an_upload_in_memory_is_on_disk_for_the_block_only():
    from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile

    from backoffice.filereaders import upload_on_disk

    upload = SimpleUploadedFile("statement.csv", b"a,b\n1,2\n")
    with upload_on_disk(upload) as path:
        assert path.endswith(".csv")
        with open(path, "rb") as handle:
            assert handle.read() == b"a,b\n1,2\n"
    assert not os.path.exists(path)

    spooled = TemporaryUploadedFile("big.csv", "text/csv", 8, "utf-8")
    spooled.write(b"a,b\n1,2\n")
    spooled.flush()
    with upload_on_disk(spooled) as path:
        assert path == spooled.temporary_file_path()
    assert os.path.exists(path)  # Django's own file: Django removes it
    spooled.close()
