"""Metro 2 writer: header, one record per account (base segment plus its
J1/J2/K1/K2/K4 segments), trailer with counts.

Written by hand rather than with a library: no maintained Python Metro 2
package exists, and the writer must stream (a generator over an iterator of
accounts, constant memory for any number of accounts), which the format
makes easy — the trailer needs only running counters.

Formatting (CRRG general rules): alphanumeric fields left-justified,
blank-filled, upper-case, characters outside the guide's set replaced by a
blank; numeric fields right-justified and zero-filled; money in whole
currency units with the cents truncated (the guide: "whole dollars, cents
truncated"), a credit balance reported as zero; dates ``MMDDYYYY``, zero
filled when not applicable. Field positions come from ``layout``.
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache, lru_cache

from cases.bureau import layout

_NOT_ALLOWED = re.compile(r"[^A-Z0-9 .,\-/&'#]")


def alpha(value, length: int) -> str:
    if not value:
        return " " * length
    text = str(value).upper()
    if _NOT_ALLOWED.search(text):
        text = _NOT_ALLOWED.sub(" ", text)
    return text[:length].ljust(length)


def numeric(value, length: int) -> str:
    if value is None or value == "":
        return "0" * length
    number = int(value)
    if number <= 0:
        return "0" * length
    digits = str(number)
    if len(digits) > length:  # never silently wrap a number: the largest value that fits
        return "9" * length
    return digits.rjust(length, "0")


def money(value, length: int) -> str:
    """Whole currency units, cents truncated (``int`` of a Decimal drops the fraction)."""
    if value is None:
        return "0" * length
    return numeric(int(value), length)


def mmddyyyy(value, length: int = 8) -> str:
    if value is None:
        return "0" * length
    return f"{value.month:02d}{value.day:02d}{value.year:04d}"


@lru_cache(maxsize=64)
def timestamp(value, length: int = 14) -> str:
    if value is None:
        return "0" * length
    return value.strftime("%m%d%Y%H%M%S")


FORMATTERS = {"A": alpha, "N": numeric, "M": money, "D": mmddyyyy, "T": timestamp, "R": None}


@cache
def _plan(table) -> tuple:
    """``(name, formatter, length, blank)`` per field, worked out once per table."""
    return tuple((f.name, FORMATTERS[f.kind], f.length, " " * f.length) for f in table)


def format_fields(table, values: dict) -> str:
    """One segment: every field of ``table`` from ``values`` (missing: empty)."""
    get = values.get
    return "".join(
        [blank if fmt is None else fmt(get(name), length) for name, fmt, length, blank in _plan(table)]
    )


@dataclass(slots=True)
class Header:
    identification: dict  # program identifiers by bureau: innovis, equifax, experian, transunion
    activity_date: date
    date_created: date
    reporter_name: str
    reporter_address: str = ""
    reporter_telephone: str = ""
    cycle_identifier: str = ""
    program_date: date | None = None
    software_vendor_name: str = "LEDGERLINE"
    software_version_number: str = "1.0"


@dataclass(slots=True)
class Consumer:
    """A J1 (same address as the base consumer) or J2 (own address) segment."""

    surname: str
    first_name: str = ""
    middle_name: str = ""
    generation_code: str = ""
    ssn: str = ""
    date_of_birth: date | None = None
    telephone: str = ""
    ecoa_code: str = "2"
    consumer_information_indicator: str = ""
    address: dict | None = None  # present → J2


@dataclass(slots=True)
class Account:
    """Everything one base record says, already derived (``cases.bureau.export``)."""

    identification_number: str
    account_number: str
    portfolio_type: str
    account_type: str
    date_opened: date
    highest_credit: Decimal
    terms_duration: str
    terms_frequency: str
    scheduled_monthly_payment: Decimal
    account_status: str
    payment_history_profile: str
    current_balance: Decimal
    date_of_account_information: date
    surname: str
    time_stamp: datetime | None = None
    actual_payment_amount: Decimal = Decimal("0")
    credit_limit: Decimal = Decimal("0")
    payment_rating: str = ""
    special_comment: str = ""
    compliance_condition_code: str = ""
    amount_past_due: Decimal = Decimal("0")
    original_charge_off_amount: Decimal = Decimal("0")
    date_of_first_delinquency: date | None = None
    date_closed: date | None = None
    date_of_last_payment: date | None = None
    interest_type_indicator: str = ""
    first_name: str = ""
    middle_name: str = ""
    generation_code: str = ""
    ssn: str = ""
    date_of_birth: date | None = None
    telephone: str = ""
    ecoa_code: str = "1"
    consumer_information_indicator: str = ""
    country_code: str = ""
    address: dict = field(default_factory=dict)
    associated: list[Consumer] = field(default_factory=list)
    original_creditor: tuple[str, str] | None = None  # K1: name, classification
    purchased_sold: tuple[str, str] | None = None  # K2: indicator, name
    specialized_payment: tuple[str, date | None, date | None, Decimal] | None = None  # K4
    cycle_identifier: str = ""


@dataclass(slots=True)
class Totals:
    """The trailer's counters and the submission's money totals, kept while streaming."""

    base_records: int = 0
    statuses: dict = field(default_factory=dict)
    j1: int = 0
    j2: int = 0
    k1: int = 0
    k2: int = 0
    k4: int = 0
    ecoa_z: int = 0
    ssn_base: int = 0
    ssn_j1: int = 0
    ssn_j2: int = 0
    dob_base: int = 0
    dob_j1: int = 0
    dob_j2: int = 0
    telephones: int = 0
    current_balance: int = 0
    amount_past_due: int = 0

    @property
    def block_count(self) -> int:
        # Fixed-length records, one per block: header + records + trailer.
        return self.base_records + 2

    def trailer_values(self) -> dict:
        values = {
            "record_descriptor_word": layout.RECORD_LENGTH,
            "record_identifier": "TRAILER",
            "total_base_records": self.base_records,
            "total_status_code_df": self.statuses.get("DF", 0),
            "total_j1_segments": self.j1,
            "total_j2_segments": self.j2,
            "block_count": self.block_count,
            "total_ecoa_code_z": self.ecoa_z,
            "total_k1_segments": self.k1,
            "total_k2_segments": self.k2,
            "total_k4_segments": self.k4,
            "total_ssn_all_segments": self.ssn_base + self.ssn_j1 + self.ssn_j2,
            "total_ssn_base_segments": self.ssn_base,
            "total_ssn_j1_segments": self.ssn_j1,
            "total_ssn_j2_segments": self.ssn_j2,
            "total_dob_all_segments": self.dob_base + self.dob_j1 + self.dob_j2,
            "total_dob_base_segments": self.dob_base,
            "total_dob_j1_segments": self.dob_j1,
            "total_dob_j2_segments": self.dob_j2,
            "total_telephone_all_segments": self.telephones,
        }
        for code, count in self.statuses.items():
            values[f"total_status_code_{code.lower()}"] = count
        return values


def header_line(header: Header) -> str:
    ids = header.identification
    return format_fields(
        layout.HEADER,
        {
            "record_descriptor_word": layout.RECORD_LENGTH,
            "record_identifier": "HEADER",
            "cycle_identifier": header.cycle_identifier,
            "innovis_program_identifier": ids.get("innovis", ""),
            "equifax_program_identifier": ids.get("equifax", ""),
            "experian_program_identifier": ids.get("experian", ""),
            "transunion_program_identifier": ids.get("transunion", ""),
            "activity_date": header.activity_date,
            "date_created": header.date_created,
            "program_date": header.program_date,
            "program_revision_date": None,
            "reporter_name": header.reporter_name,
            "reporter_address": header.reporter_address,
            "reporter_telephone_number": _digits(header.reporter_telephone)[-10:] or None,
            "software_vendor_name": header.software_vendor_name,
            "software_version_number": header.software_version_number,
        },
    )


def _digits(text: str) -> str:
    return "".join(c for c in (text or "") if c.isdigit())


def _consumer_values(person, segment: str) -> dict:
    values = {
        "segment_identifier": segment,
        "surname": person.surname,
        "first_name": person.first_name,
        "middle_name": person.middle_name,
        "generation_code": person.generation_code,
        "social_security_number": person.ssn or None,
        "date_of_birth": person.date_of_birth,
        "telephone_number": person.telephone or None,
        "ecoa_code": person.ecoa_code,
        "consumer_information_indicator": person.consumer_information_indicator,
    }
    if person.address is not None:
        values.update(_address_values(person.address))
    return values


def _address_values(address: dict) -> dict:
    return {
        "country_code": address.get("country", ""),
        "first_line_of_address": address.get("line1", ""),
        "second_line_of_address": address.get("line2", ""),
        "city": address.get("city", ""),
        "state": address.get("state", ""),
        "postal_code": address.get("postal_code", ""),
        "address_indicator": address.get("indicator", ""),
        "residence_code": address.get("residence", ""),
    }


def record_line(account: Account, totals: Totals) -> str:
    """The account's base segment and appended segments; counts them into ``totals``."""
    segments = []
    for person in account.associated:
        if person.address is None:
            segments.append(format_fields(layout.J1, _consumer_values(person, "J1")))
            totals.j1 += 1
            totals.ssn_j1 += bool(person.ssn)
            totals.dob_j1 += person.date_of_birth is not None
        else:
            segments.append(format_fields(layout.J2, _consumer_values(person, "J2")))
            totals.j2 += 1
            totals.ssn_j2 += bool(person.ssn)
            totals.dob_j2 += person.date_of_birth is not None
        totals.telephones += bool(person.telephone)
        totals.ecoa_z += person.ecoa_code == "Z"
    if account.original_creditor is not None:
        name, classification = account.original_creditor
        segments.append(
            format_fields(
                layout.K1,
                {
                    "segment_identifier": "K1",
                    "original_creditor_name": name,
                    "creditor_classification": classification,
                },
            )
        )
        totals.k1 += 1
    if account.purchased_sold is not None:
        indicator, name = account.purchased_sold
        segments.append(
            format_fields(
                layout.K2,
                {
                    "segment_identifier": "K2",
                    "purchased_sold_indicator": indicator,
                    "purchased_sold_name": name,
                },
            )
        )
        totals.k2 += 1
    if account.specialized_payment is not None:
        indicator, deferred_start, balloon_due, balloon_amount = account.specialized_payment
        segments.append(
            format_fields(
                layout.K4,
                {
                    "segment_identifier": "K4",
                    "specialized_payment_indicator": indicator,
                    "deferred_payment_start_date": deferred_start,
                    "balloon_payment_due_date": balloon_due,
                    "balloon_payment_amount": balloon_amount,
                },
            )
        )
        totals.k4 += 1
    appended = "".join(segments)
    values = {
        "record_descriptor_word": layout.RECORD_LENGTH + len(appended),
        "processing_indicator": 1,
        "time_stamp": account.time_stamp,
        "correction_indicator": 0,
        "identification_number": account.identification_number,
        "cycle_identifier": account.cycle_identifier,
        "consumer_account_number": account.account_number,
        "portfolio_type": account.portfolio_type,
        "account_type": account.account_type,
        "date_opened": account.date_opened,
        "credit_limit": account.credit_limit,
        "highest_credit": account.highest_credit,
        "terms_duration": account.terms_duration,
        "terms_frequency": account.terms_frequency,
        "scheduled_monthly_payment": account.scheduled_monthly_payment,
        "actual_payment_amount": account.actual_payment_amount,
        "account_status": account.account_status,
        "payment_rating": account.payment_rating,
        "payment_history_profile": account.payment_history_profile,
        "special_comment": account.special_comment,
        "compliance_condition_code": account.compliance_condition_code,
        "current_balance": account.current_balance,
        "amount_past_due": account.amount_past_due,
        "original_charge_off_amount": account.original_charge_off_amount,
        "date_of_account_information": account.date_of_account_information,
        "date_of_first_delinquency": account.date_of_first_delinquency,
        "date_closed": account.date_closed,
        "date_of_last_payment": account.date_of_last_payment,
        "interest_type_indicator": account.interest_type_indicator,
        "surname": account.surname,
        "first_name": account.first_name,
        "middle_name": account.middle_name,
        "generation_code": account.generation_code,
        "social_security_number": account.ssn or None,
        "date_of_birth": account.date_of_birth,
        "telephone_number": account.telephone or None,
        "ecoa_code": account.ecoa_code,
        "consumer_information_indicator": account.consumer_information_indicator,
        **_address_values(account.address),
    }
    base = format_fields(layout.BASE, values)
    totals.base_records += 1
    totals.statuses[account.account_status] = totals.statuses.get(account.account_status, 0) + 1
    totals.ssn_base += bool(account.ssn)
    totals.dob_base += account.date_of_birth is not None
    totals.telephones += bool(account.telephone)
    totals.ecoa_z += account.ecoa_code == "Z"
    totals.current_balance += int(money(account.current_balance, 12))
    totals.amount_past_due += int(money(account.amount_past_due, 12))
    return base + appended


def trailer_line(totals: Totals) -> str:
    return format_fields(layout.TRAILER, totals.trailer_values())


def write_metro2(header: Header, accounts: Iterable[Account], totals: Totals | None = None) -> Iterator[str]:
    """Yield the file's lines (without line ends): header, one per account, trailer.

    A generator over ``accounts``: it holds one account at a time and the
    running ``totals`` (pass your own to read them once the generator is done).
    """
    totals = totals if totals is not None else Totals()
    yield header_line(header)
    for account in accounts:
        yield record_line(account, totals)
    yield trailer_line(totals)
