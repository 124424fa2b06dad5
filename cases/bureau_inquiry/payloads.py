"""The bureau's JSON replies, validated whole before anything is written.

A reply that does not match the shape documented in docs/bureau-inquiry.md
raises ``Malformed`` naming the first bad field, and the fetch ends with the
outcome "malformed" and no snapshot. Hand-written rather than a schema
library: two small shapes, and the error text must name the field for the
attempt's ``detail``.
"""

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

SCORE_MIN, SCORE_MAX = 300, 900
_DECIMAL = re.compile(r"^-?\d{1,16}(\.\d{1,2})?$")
MAX_ITEMS = 500


class Malformed(ValueError):
    """The reply is not what the bureau promised."""


@dataclass(frozen=True)
class CreditReport:
    request_id: str
    score: int | None
    score_model: str
    tradelines: list[dict]
    delinquencies: list[dict]

    @property
    def open_tradelines(self) -> int:
        return sum(1 for t in self.tradelines if t["status"] == "open")


@dataclass(frozen=True)
class SkipTrace:
    request_id: str
    addresses: list[dict]
    phones: list[dict]
    emails: list[dict]
    employer: dict | None

    def as_json(self) -> dict:
        return {
            "request_id": self.request_id,
            "addresses": self.addresses,
            "phones": self.phones,
            "emails": self.emails,
            "employer": self.employer,
        }


def _require(obj: dict, key: str, kinds, where: str, *, optional: bool = False):
    if key not in obj:
        if optional:
            return None
        raise Malformed(f"{where}.{key}: missing")
    value = obj[key]
    if value is None and optional:
        return None
    # bool is an int in Python; a JSON true is never a count or a score.
    if isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
        raise Malformed(f"{where}.{key}: expected {kinds}, got a boolean")
    if not isinstance(value, kinds):
        raise Malformed(f"{where}.{key}: expected {getattr(kinds, '__name__', kinds)}")
    return value


def _text(obj: dict, key: str, where: str, *, optional: bool = False, max_length: int = 300) -> str:
    value = _require(obj, key, str, where, optional=optional)
    if value is None:
        return ""
    value = value.strip()
    if not optional and not value:
        raise Malformed(f"{where}.{key}: empty")
    if len(value) > max_length:
        raise Malformed(f"{where}.{key}: longer than {max_length} characters")
    return value


def _date(obj: dict, key: str, where: str, *, optional: bool = False) -> str | None:
    value = _require(obj, key, str, where, optional=optional)
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise Malformed(f"{where}.{key}: not an ISO date") from None


def _amount(obj: dict, key: str, where: str) -> str:
    value = _require(obj, key, str, where)
    if not _DECIMAL.match(value):
        raise Malformed(f"{where}.{key}: not a decimal amount string")
    try:
        return str(Decimal(value).quantize(Decimal("0.01")))
    except InvalidOperation:
        raise Malformed(f"{where}.{key}: not a decimal amount string") from None


def _list(obj: dict, key: str, where: str) -> list:
    items = _require(obj, key, list, where)
    if len(items) > MAX_ITEMS:
        raise Malformed(f"{where}.{key}: more than {MAX_ITEMS} items")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise Malformed(f"{where}.{key}[{index}]: expected an object")
    return items


def _request_id(body: dict, where: str) -> str:
    return _text(body, "request_id", where, max_length=80)


def parse_credit_report(body) -> CreditReport:
    """The credit report summary, or ``Malformed``."""
    where = "report"
    if not isinstance(body, dict):
        raise Malformed(f"{where}: expected a JSON object")
    request_id = _request_id(body, where)
    score = _require(body, "score", int, where, optional=True)
    if score is not None and not SCORE_MIN <= score <= SCORE_MAX:
        raise Malformed(f"{where}.score: outside {SCORE_MIN}–{SCORE_MAX}")
    score_model = _text(body, "score_model", where, optional=True, max_length=40)
    tradelines = []
    for i, item in enumerate(_list(body, "tradelines", where)):
        at = f"{where}.tradelines[{i}]"
        status = _text(item, "status", at)
        if status not in ("open", "closed"):
            raise Malformed(f"{at}.status: expected open or closed")
        tradelines.append(
            {
                "creditor": _text(item, "creditor", at, max_length=200),
                "kind": _text(item, "kind", at, max_length=40),
                "status": status,
                "opened_on": _date(item, "opened_on", at),
                "balance": _amount(item, "balance", at),
                "past_due": _amount(item, "past_due", at),
            }
        )
    delinquencies = []
    for i, item in enumerate(_list(body, "delinquencies", where)):
        at = f"{where}.delinquencies[{i}]"
        days = _require(item, "days_past_due", int, at)
        if days < 0:
            raise Malformed(f"{at}.days_past_due: negative")
        delinquencies.append(
            {
                "creditor": _text(item, "creditor", at, max_length=200),
                "reported_on": _date(item, "reported_on", at),
                "days_past_due": days,
                "amount": _amount(item, "amount", at),
            }
        )
    return CreditReport(request_id, score, score_model, tradelines, delinquencies)


def parse_skip_trace(body) -> SkipTrace:
    """The skip-trace reply, or ``Malformed``."""
    where = "skip_trace"
    if not isinstance(body, dict):
        raise Malformed(f"{where}: expected a JSON object")
    request_id = _request_id(body, where)
    addresses = [
        {
            "value": _text(item, "value", f"{where}.addresses[{i}]"),
            "reported_on": _date(item, "reported_on", f"{where}.addresses[{i}]", optional=True),
        }
        for i, item in enumerate(_list(body, "addresses", where))
    ]
    phones = [
        {
            "number": _text(item, "number", f"{where}.phones[{i}]", max_length=40),
            "type": _text(item, "type", f"{where}.phones[{i}]", optional=True, max_length=40),
        }
        for i, item in enumerate(_list(body, "phones", where))
    ]
    emails = [
        {"value": _text(item, "value", f"{where}.emails[{i}]", max_length=254)}
        for i, item in enumerate(_list(body, "emails", where))
    ]
    employer = _require(body, "employer", dict, where, optional=True)
    if employer is not None:
        employer = {
            "name": _text(employer, "name", f"{where}.employer", max_length=200),
            "phone": _text(employer, "phone", f"{where}.employer", optional=True, max_length=40),
        }
    return SkipTrace(request_id, addresses, phones, emails, employer)
