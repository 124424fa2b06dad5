"""Metro 2 reader and validator of our own (character format, 426 bytes).

``read_metro2`` parses any file — ours or another furnisher's — into
records with every field of every segment, using the same ``layout`` tables
as the writer. ``validate_metro2`` adds the checks a bureau makes before it
loads a file and reports each problem as a ``FieldError`` (line, segment,
field, value, why), never stopping at the first.
"""

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from cases.bureau import layout

# Statuses that need field 25 (DOFD) and the ones that need a payment rating (CRRG).
DELINQUENT_STATUSES = frozenset({"71", "78", "80", "82", "83", "84", "93", "97", "94", "95", "96"})
RATED_STATUSES = frozenset({"05", "13", "65", "88", "89", "94", "95"})
REQUIRED_BASE = (
    "identification_number",
    "consumer_account_number",
    "portfolio_type",
    "account_type",
    "date_opened",
    "account_status",
    "date_of_account_information",
    "surname",
    "ecoa_code",
)


@dataclass(frozen=True)
class FieldError:
    line: int
    segment: str
    field: str
    value: str
    why: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.segment}.{self.field} = {self.value!r}: {self.why}"


@dataclass
class Record:
    """One parsed line: ``kind`` is header, base or trailer; ``fields`` the
    parsed values; ``raw`` the raw text of each field; ``segments`` the
    appended segments (id, fields) in file order."""

    line: int
    kind: str
    fields: dict
    raw: dict
    segments: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    def segment(self, name: str) -> dict | None:
        return next((values for seg, values in self.segments if seg == name), None)

    def segments_named(self, name: str) -> list[dict]:
        return [values for seg, values in self.segments if seg == name]


def _parse_value(kind: str, raw: str):
    """``(value, why)``: the parsed value, or ``None`` and why it is wrong."""
    if kind in ("A", "R"):
        return raw.rstrip(), None
    if kind in ("N", "M"):
        if raw.strip() == "":
            return None, None
        if not raw.isdigit():
            return None, "numeric field holds something other than digits"
        return int(raw), None
    if kind == "D":
        if raw.strip("0 ") == "":
            return None, None
        if not raw.isdigit():
            return None, "date is not MMDDYYYY digits"
        try:
            return date(int(raw[4:]), int(raw[:2]), int(raw[2:4])), None
        except ValueError:
            return None, "not a calendar date (MMDDYYYY)"
    if kind == "T":
        if raw.strip("0 ") == "":
            return None, None
        try:
            return datetime.strptime(raw, "%m%d%Y%H%M%S"), None
        except ValueError:
            return None, "time stamp is not MMDDYYYYHHMMSS"
    raise ValueError(kind)


def _parse_segment(text: str, table, *, line: int, segment: str, offset: int = 0):
    values, raw_values, errors = {}, {}, []
    for f in table:
        raw = text[offset + f.start - 1 : offset + f.end]
        raw_values[f.name] = raw
        value, why = _parse_value(f.kind, raw)
        if why is None and f.kind == "A" and raw != raw.upper():
            why = "alphanumeric fields must be upper-case"
        if why:
            errors.append(FieldError(line, segment, f.name, raw, why))
        values[f.name] = value
    return values, raw_values, errors


def _parse_line(text: str, line: int) -> Record:
    kind = "base"
    if text[4:10] == "HEADER":
        kind = "header"
    elif text[4:11] == "TRAILER":
        kind = "trailer"
    table = {"header": layout.HEADER, "base": layout.BASE, "trailer": layout.TRAILER}[kind]
    segment_name = kind.upper() if kind != "base" else "BASE"
    if len(text) < layout.RECORD_LENGTH:
        record = Record(line, kind, {}, {})
        record.errors.append(
            FieldError(line, segment_name, "record", f"{len(text)} characters", "shorter than 426 characters")
        )
        return record
    values, raw, errors = _parse_segment(text, table, line=line, segment=segment_name)
    record = Record(line, kind, values, raw, errors=errors)
    rdw = values.get("record_descriptor_word")
    if rdw != len(text):
        record.errors.append(
            FieldError(
                line,
                segment_name,
                "record_descriptor_word",
                raw.get("record_descriptor_word", ""),
                f"says {rdw} but the record is {len(text)} characters",
            )
        )
    if kind != "base":
        if len(text) != layout.RECORD_LENGTH:
            record.errors.append(
                FieldError(line, segment_name, "record", str(len(text)), "must be exactly 426 characters")
            )
        return record
    position = layout.RECORD_LENGTH
    last_order = -1
    while position < len(text):
        seg_id = text[position : position + 2]
        if seg_id not in layout.SEGMENTS:
            record.errors.append(
                FieldError(line, "BASE", "appended segment", seg_id, "unknown segment identifier")
            )
            break
        length = layout.SEGMENT_LENGTH[seg_id]
        if position + length > len(text):
            record.errors.append(
                FieldError(line, seg_id, "segment", text[position:], f"truncated: {seg_id} is {length} bytes")
            )
            break
        order = layout.SEGMENT_ORDER.index(seg_id)
        if order < last_order:
            record.errors.append(
                FieldError(line, seg_id, "segment_identifier", seg_id, "segments out of the guide's order")
            )
        last_order = order
        seg_values, _raw, seg_errors = _parse_segment(
            text, layout.SEGMENTS[seg_id], line=line, segment=seg_id, offset=position
        )
        record.segments.append((seg_id, seg_values))
        record.errors.extend(seg_errors)
        position += length
    return record


def read_metro2(lines: Iterable[str]) -> Iterator[Record]:
    """Parse each line (line ends stripped); blank lines are skipped."""
    for number, text in enumerate(lines, start=1):
        text = text.rstrip("\r\n")
        if not text.strip():
            continue
        yield _parse_line(text, number)


def _check_base(record: Record) -> list[FieldError]:
    errors = []
    v, line = record.fields, record.line

    def err(name, why, segment="BASE", value=None):
        errors.append(
            FieldError(line, segment, name, record.raw.get(name, "") if value is None else value, why)
        )

    for name in REQUIRED_BASE:
        if v.get(name) in (None, ""):
            err(name, "required field is empty")
    status = v.get("account_status") or ""
    if status and status not in layout.VALID_STATUSES:
        err("account_status", "not a Metro 2 account status code")
    rating = v.get("payment_rating") or ""
    if rating and rating not in layout.PAYMENT_RATINGS:
        err("payment_rating", "not a payment rating code")
    if status in RATED_STATUSES and not rating:
        err("payment_rating", f"required with account status {status}")
    profile = record.raw.get("payment_history_profile", "")
    bad = [c for c in profile if c not in layout.PAYMENT_HISTORY_CODES]
    if bad:
        err("payment_history_profile", f"invalid codes {''.join(sorted(set(bad)))!r}")
    code = v.get("compliance_condition_code") or ""
    if code and code not in layout.COMPLIANCE_CONDITION_CODES:
        err("compliance_condition_code", "not a compliance condition code")
    ecoa = v.get("ecoa_code") or ""
    if ecoa and ecoa not in layout.ECOA_CODES:
        err("ecoa_code", "not an ECOA code")
    if status in DELINQUENT_STATUSES and v.get("date_of_first_delinquency") is None:
        err("date_of_first_delinquency", f"field 25 is required with account status {status}")
    if status == "11" and v.get("date_of_first_delinquency") is not None:
        err("date_of_first_delinquency", "field 25 must be empty for a current account (status 11)")
    opened, info = v.get("date_opened"), v.get("date_of_account_information")
    if opened and info and opened > info:
        err("date_opened", "after the date of account information")
    for seg, values in record.segments:
        if seg in ("J1", "J2"):
            if not values.get("surname"):
                errors.append(FieldError(line, seg, "surname", "", "required field is empty"))
            if (values.get("ecoa_code") or "") not in layout.ECOA_CODES:
                errors.append(
                    FieldError(line, seg, "ecoa_code", values.get("ecoa_code") or "", "not an ECOA code")
                )
        if seg == "K1" and not values.get("original_creditor_name"):
            errors.append(FieldError(line, seg, "original_creditor_name", "", "required field is empty"))
        if seg == "K2" and values.get("purchased_sold_indicator") not in (1, 2, 9):
            errors.append(
                FieldError(
                    line,
                    seg,
                    "purchased_sold_indicator",
                    str(values.get("purchased_sold_indicator")),
                    "not 1, 2 or 9",
                )
            )
    return errors


def _check_trailer(record: Record, counted: Counter) -> list[FieldError]:
    errors = []
    expected = {
        "total_base_records": counted["base"],
        "total_j1_segments": counted["J1"],
        "total_j2_segments": counted["J2"],
        "total_k1_segments": counted["K1"],
        "total_k2_segments": counted["K2"],
        "total_k4_segments": counted["K4"],
        "block_count": counted["base"] + counted["header"] + 1,
    }
    for code in layout.VALID_STATUSES:
        name = f"total_status_code_{code.lower()}"
        if name in record.fields:
            expected[name] = counted[f"status:{code}"]
    for name, value in expected.items():
        got = record.fields.get(name) or 0
        if got != value:
            errors.append(
                FieldError(
                    record.line,
                    "TRAILER",
                    name,
                    record.raw.get(name, ""),
                    f"says {got}, the file has {value}",
                )
            )
    return errors


def validate_metro2(lines: Iterable[str]) -> list[FieldError]:
    """Every field-level problem of a Metro 2 file, in file order."""
    errors: list[FieldError] = []
    counted: Counter = Counter()
    trailer = None
    last_line = 0
    for index, record in enumerate(read_metro2(lines)):
        last_line = record.line
        errors.extend(record.errors)
        if index == 0 and record.kind != "header":
            errors.append(
                FieldError(record.line, "HEADER", "record_identifier", "", "the file must start with HEADER")
            )
        if record.kind == "header":
            counted["header"] += 1
            if index != 0:
                errors.append(
                    FieldError(record.line, "HEADER", "record_identifier", "HEADER", "header not first")
                )
            for name in ("activity_date", "date_created", "reporter_name"):
                if record.fields and record.fields.get(name) in (None, ""):
                    errors.append(FieldError(record.line, "HEADER", name, "", "required field is empty"))
        elif record.kind == "trailer":
            if trailer is not None:
                errors.append(
                    FieldError(record.line, "TRAILER", "record_identifier", "TRAILER", "second trailer")
                )
            trailer = record
        else:
            if trailer is not None:
                errors.append(FieldError(record.line, "BASE", "record", "", "base record after the trailer"))
            if not record.fields:
                continue
            counted["base"] += 1
            counted[f"status:{record.fields.get('account_status')}"] += 1
            for seg, _values in record.segments:
                counted[seg] += 1
            errors.extend(_check_base(record))
    if trailer is None:
        errors.append(FieldError(last_line, "TRAILER", "record_identifier", "", "the file has no TRAILER"))
    elif trailer.fields:
        errors.extend(_check_trailer(trailer, counted))
    return errors
