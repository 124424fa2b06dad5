"""The Metro 2 character (426-byte) layout, defined once.

Positions and lengths follow the CDIA Credit Reporting Resource Guide
(Metro 2 Format, unpacked "character" records): the header, base segment
and trailer are 426 bytes; appended segments follow their base segment in
the same record, and the base segment's Record Descriptor Word (RDW) gives
the record's total length (426 + its segments).

Both the writer (``cases.bureau.metro2``) and the reader/validator
(``cases.bureau.reader``) use these tables and nothing else, so a position
can only be wrong in one place.

Each field is ``(name, start, length, kind)`` with ``start`` 1-based as in
the guide. Kinds:

- ``A`` alphanumeric: left-justified, blank-filled, upper-case;
- ``N`` numeric: right-justified, zero-filled;
- ``M`` money: numeric, whole currency units (cents dropped, as the guide says);
- ``D`` date ``MMDDYYYY`` (zeros or blanks when not applicable);
- ``T`` time stamp ``MMDDYYYYHHMMSS``;
- ``R`` reserved: blank-filled.
"""

from typing import NamedTuple

RECORD_LENGTH = 426


class Field(NamedTuple):
    name: str
    start: int
    length: int
    kind: str

    @property
    def end(self) -> int:
        """1-based inclusive last position."""
        return self.start + self.length - 1


def _table(spec: list[tuple[str, int, str]], *, first: int = 1) -> tuple[Field, ...]:
    """Lay ``(name, length, kind)`` out end to end from position ``first``."""
    fields, position = [], first
    for name, length, kind in spec:
        fields.append(Field(name, position, length, kind))
        position += length
    return tuple(fields)


HEADER = _table(
    [
        ("record_descriptor_word", 4, "N"),
        ("record_identifier", 6, "A"),  # HEADER
        ("cycle_identifier", 2, "A"),
        ("innovis_program_identifier", 10, "A"),
        ("equifax_program_identifier", 10, "A"),
        ("experian_program_identifier", 5, "A"),
        ("transunion_program_identifier", 10, "A"),
        ("activity_date", 8, "D"),
        ("date_created", 8, "D"),
        ("program_date", 8, "D"),
        ("program_revision_date", 8, "D"),
        ("reporter_name", 40, "A"),
        ("reporter_address", 96, "A"),
        ("reporter_telephone_number", 10, "N"),
        ("software_vendor_name", 40, "A"),
        ("software_version_number", 5, "A"),
        ("prbc_program_identifier", 10, "A"),
        ("reserved", 146, "R"),
    ]
)

BASE = _table(
    [
        ("record_descriptor_word", 4, "N"),  # field 1
        ("processing_indicator", 1, "N"),  # 2
        ("time_stamp", 14, "T"),  # 3
        ("correction_indicator", 1, "N"),  # 4
        ("identification_number", 20, "A"),  # 5
        ("cycle_identifier", 2, "A"),  # 6
        ("consumer_account_number", 30, "A"),  # 7
        ("portfolio_type", 1, "A"),  # 8
        ("account_type", 2, "A"),  # 9
        ("date_opened", 8, "D"),  # 10
        ("credit_limit", 9, "M"),  # 11
        ("highest_credit", 9, "M"),  # 12
        ("terms_duration", 3, "A"),  # 13
        ("terms_frequency", 1, "A"),  # 14
        ("scheduled_monthly_payment", 9, "M"),  # 15
        ("actual_payment_amount", 9, "M"),  # 16
        ("account_status", 2, "A"),  # 17A
        ("payment_rating", 1, "A"),  # 17B
        ("payment_history_profile", 24, "A"),  # 18
        ("special_comment", 2, "A"),  # 19
        ("compliance_condition_code", 2, "A"),  # 20
        ("current_balance", 9, "M"),  # 21
        ("amount_past_due", 9, "M"),  # 22
        ("original_charge_off_amount", 9, "M"),  # 23
        ("date_of_account_information", 8, "D"),  # 24
        ("date_of_first_delinquency", 8, "D"),  # 25 (FCRA compliance / DOFD)
        ("date_closed", 8, "D"),  # 26
        ("date_of_last_payment", 8, "D"),  # 27
        ("interest_type_indicator", 1, "A"),  # 28
        ("reserved", 16, "R"),  # 29
        ("consumer_transaction_type", 1, "A"),  # 30
        ("surname", 25, "A"),  # 31
        ("first_name", 20, "A"),  # 32
        ("middle_name", 20, "A"),  # 33
        ("generation_code", 1, "A"),  # 34
        ("social_security_number", 9, "N"),  # 35
        ("date_of_birth", 8, "D"),  # 36
        ("telephone_number", 10, "N"),  # 37
        ("ecoa_code", 1, "A"),  # 38
        ("consumer_information_indicator", 2, "A"),  # 39
        ("country_code", 2, "A"),  # 40
        ("first_line_of_address", 32, "A"),  # 41
        ("second_line_of_address", 32, "A"),  # 42
        ("city", 20, "A"),  # 43
        ("state", 2, "A"),  # 44
        ("postal_code", 9, "A"),  # 45
        ("address_indicator", 1, "A"),  # 46
        ("residence_code", 1, "A"),  # 47
    ]
)

_STATUS_TOTALS = [
    ("total_status_code_da", 9, "N"),
    ("total_status_code_05", 9, "N"),
    ("total_status_code_11", 9, "N"),
    ("total_status_code_13", 9, "N"),
    ("total_status_code_61", 9, "N"),
    ("total_status_code_62", 9, "N"),
    ("total_status_code_63", 9, "N"),
    ("total_status_code_64", 9, "N"),
    ("total_status_code_65", 9, "N"),
    ("total_status_code_71", 9, "N"),
    ("total_status_code_78", 9, "N"),
    ("total_status_code_80", 9, "N"),
    ("total_status_code_82", 9, "N"),
    ("total_status_code_83", 9, "N"),
    ("total_status_code_84", 9, "N"),
    ("total_status_code_88", 9, "N"),
    ("total_status_code_89", 9, "N"),
    ("total_status_code_93", 9, "N"),
    ("total_status_code_94", 9, "N"),
    ("total_status_code_95", 9, "N"),
    ("total_status_code_96", 9, "N"),
    ("total_status_code_97", 9, "N"),
]

TRAILER = _table(
    [
        ("record_descriptor_word", 4, "N"),
        ("record_identifier", 7, "A"),  # TRAILER
        ("total_base_records", 9, "N"),
        ("reserved_1", 9, "R"),
        ("total_status_code_df", 9, "N"),
        ("total_j1_segments", 9, "N"),
        ("total_j2_segments", 9, "N"),
        ("block_count", 9, "N"),
        *_STATUS_TOTALS,
        ("total_ecoa_code_z", 9, "N"),
        ("total_n1_segments", 9, "N"),
        ("total_k1_segments", 9, "N"),
        ("total_k2_segments", 9, "N"),
        ("total_k3_segments", 9, "N"),
        ("total_k4_segments", 9, "N"),
        ("total_l1_segments", 9, "N"),
        ("total_ssn_all_segments", 9, "N"),
        ("total_ssn_base_segments", 9, "N"),
        ("total_ssn_j1_segments", 9, "N"),
        ("total_ssn_j2_segments", 9, "N"),
        ("total_dob_all_segments", 9, "N"),
        ("total_dob_base_segments", 9, "N"),
        ("total_dob_j1_segments", 9, "N"),
        ("total_dob_j2_segments", 9, "N"),
        ("total_telephone_all_segments", 9, "N"),
        ("reserved_2", 19, "R"),
    ]
)

J1 = _table(
    [
        ("segment_identifier", 2, "A"),
        ("reserved_1", 1, "R"),
        ("surname", 25, "A"),
        ("first_name", 20, "A"),
        ("middle_name", 20, "A"),
        ("generation_code", 1, "A"),
        ("social_security_number", 9, "N"),
        ("date_of_birth", 8, "D"),
        ("telephone_number", 10, "N"),
        ("ecoa_code", 1, "A"),
        ("consumer_information_indicator", 2, "A"),
        ("reserved_2", 1, "R"),
    ]
)

J2 = _table(
    [
        ("segment_identifier", 2, "A"),
        ("reserved_1", 1, "R"),
        ("surname", 25, "A"),
        ("first_name", 20, "A"),
        ("middle_name", 20, "A"),
        ("generation_code", 1, "A"),
        ("social_security_number", 9, "N"),
        ("date_of_birth", 8, "D"),
        ("telephone_number", 10, "N"),
        ("ecoa_code", 1, "A"),
        ("consumer_information_indicator", 2, "A"),
        ("country_code", 2, "A"),
        ("first_line_of_address", 32, "A"),
        ("second_line_of_address", 32, "A"),
        ("city", 20, "A"),
        ("state", 2, "A"),
        ("postal_code", 9, "A"),
        ("address_indicator", 1, "A"),
        ("residence_code", 1, "A"),
        ("reserved_2", 2, "R"),
    ]
)

K1 = _table(
    [
        ("segment_identifier", 2, "A"),
        ("original_creditor_name", 30, "A"),
        ("creditor_classification", 2, "N"),
    ]
)

K2 = _table(
    [
        ("segment_identifier", 2, "A"),
        ("purchased_sold_indicator", 1, "N"),
        ("purchased_sold_name", 30, "A"),
        ("reserved", 1, "R"),
    ]
)

K4 = _table(
    [
        ("segment_identifier", 2, "A"),
        ("specialized_payment_indicator", 2, "N"),
        ("deferred_payment_start_date", 8, "D"),
        ("balloon_payment_due_date", 8, "D"),
        ("balloon_payment_amount", 9, "M"),
        ("reserved", 1, "R"),
    ]
)

# Appended segments in the order the guide requires after the base segment.
SEGMENTS: dict[str, tuple[Field, ...]] = {"J1": J1, "J2": J2, "K1": K1, "K2": K2, "K4": K4}
SEGMENT_ORDER = ("J1", "J2", "K1", "K2", "K4")


def length_of(table: tuple[Field, ...]) -> int:
    return table[-1].end


SEGMENT_LENGTH = {name: length_of(table) for name, table in SEGMENTS.items()}

# Codes (CRRG): RULES.md §6 account statuses we derive, and the others a
# file may lawfully carry (the validator accepts the whole set).
OUR_STATUSES = ("11", "71", "78", "80", "82", "83", "84", "97", "64", "62", "13", "DA")
VALID_STATUSES = frozenset({*OUR_STATUSES, "05", "61", "63", "65", "88", "89", "93", "94", "95", "96", "DF"})
PAYMENT_HISTORY_CODES = frozenset("0123456BDEGHJKL")
PAYMENT_RATINGS = frozenset("0123456GL")
ECOA_CODES = frozenset("12357TWXZ")
COMPLIANCE_CONDITION_CODES = frozenset({"XA", "XB", "XC", "XD", "XE", "XF", "XG", "XH", "XJ", "XR"})


def _check_tables() -> None:
    assert length_of(HEADER) == RECORD_LENGTH
    assert length_of(BASE) == RECORD_LENGTH
    assert length_of(TRAILER) == RECORD_LENGTH
    assert SEGMENT_LENGTH == {"J1": 100, "J2": 200, "K1": 34, "K2": 34, "K4": 30}


_check_tables()
