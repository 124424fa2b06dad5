"""``validate_metro2`` and ``manage.py metro2_validate``: field-level errors
(line, segment, field, value, why) for any file."""

import pytest
from django.core.management import CommandError, call_command

from cases.bureau.metro2 import write_metro2
from cases.bureau.reader import validate_metro2
from tests.bureau.test_metro2_format import HEADER, account


def good_lines() -> list[str]:
    return list(
        write_metro2(
            HEADER,
            [account(), account(account_number="B2", account_status="11", date_of_first_delinquency=None)],
        )
    )


def put(line: str, start: int, text: str) -> str:
    """Overwrite ``line`` from 1-based ``start``."""
    return line[: start - 1] + text + line[start - 1 + len(text) :]


def errors_of(lines) -> set[tuple]:
    return {(e.line, e.segment, e.field) for e in validate_metro2(lines)}


def test_our_file_has_no_errors():
    assert validate_metro2(good_lines()) == []


def test_an_unknown_account_status_is_named_with_its_line_field_and_value():
    lines = good_lines()
    lines[1] = put(lines[1], 124, "QQ")
    (error, trailer_error) = validate_metro2(lines)
    assert (error.line, error.segment, error.field, error.value) == (2, "BASE", "account_status", "QQ")
    assert "not a Metro 2 account status" in error.why
    assert trailer_error.field == "total_status_code_71"


def test_lower_case_letters_and_bad_dates_and_digits_are_errors():
    lines = good_lines()
    lines[1] = put(lines[1], 233, "smith")
    lines[1] = put(lines[1], 182, "13312026")
    lines[1] = put(lines[1], 155, "00000A000")
    assert {
        (2, "BASE", "surname"),
        (2, "BASE", "date_of_account_information"),
        (2, "BASE", "current_balance"),
    } <= errors_of(lines)


def test_a_delinquent_status_without_field_25_is_an_error():
    lines = good_lines()
    lines[1] = put(lines[1], 190, "00000000")
    assert errors_of(lines) == {(2, "BASE", "date_of_first_delinquency")}


def test_a_wrong_rdw_and_a_short_record_are_errors():
    lines = good_lines()
    lines[1] = put(lines[1], 1, "0500")
    lines[2] = lines[2][:300]
    found = errors_of(lines)
    assert (2, "BASE", "record_descriptor_word") in found
    assert (3, "BASE", "record") in found


def test_trailer_totals_must_match_the_file():
    lines = good_lines()
    lines[-1] = put(lines[-1], 12, "000000009")
    assert errors_of(lines) == {(4, "TRAILER", "total_base_records")}


def test_a_file_without_header_or_trailer_is_an_error():
    lines = good_lines()
    found = errors_of(lines[1:-1])
    assert (1, "HEADER", "record_identifier") in found
    assert any(segment == "TRAILER" for _line, segment, _field in found)


def test_an_unknown_appended_segment_is_an_error():
    lines = good_lines()
    lines[1] = put(lines[1], 1, "0456") + "Q9" + " " * 28
    assert (2, "BASE", "appended segment") in errors_of(lines)


def test_the_command_prints_each_error_and_exits_non_zero(tmp_path, capsys):
    lines = good_lines()
    lines[2] = put(lines[2], 124, "ZZ")
    path = tmp_path / "bad.txt"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(CommandError, match="error"):
        call_command("metro2_validate", str(path))
    out = capsys.readouterr().out
    assert "line 3\tBASE\taccount_status\t'ZZ'\tnot a Metro 2 account status code" in out


def test_the_command_passes_a_good_file(tmp_path, capsys):
    path = tmp_path / "good.txt"
    path.write_text("\n".join(good_lines()) + "\n")
    call_command("metro2_validate", str(path))
    assert "valid Metro 2" in capsys.readouterr().out
