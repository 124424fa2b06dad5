"""Finding customers by personal data: by the exact full value only (issue #15).

A mask that shows the last four characters of a national ID is an oracle as
soon as anything matches part of the ID: ``icontains`` with one guessed digit
in front of the known suffix rebuilt a whole ID in 64 requests. So a search
term is read as each kind of personal value it could be, normalised the way
the value is stored (national ID upper-cased without spaces, phones in E.164,
emails compared whole and without regard to case, dates of birth as ISO
dates, postal addresses as typed), and compared for equality only. Names
keep their ``icontains`` search in the screens.

``full_value_match`` is the one place that turns a term into the comparison:
when the columns are encrypted the ``Q`` it builds becomes a lookup of the
blind index (an HMAC of the same normalised value), and no caller changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import phonenumbers
from django.db.models import Model, Q

from customers.models import ContactPoint, Customer, ThirdPartyContact

# A term longer than any stored value is none of them (the columns' widths).
MAX_TERM_LENGTH = 300
_NATIONAL_ID = re.compile(r"[0-9A-Z-]{1,40}")
_PHONE = re.compile(r"\+?[0-9 ()\-.]{7,25}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Regions a phone typed without a country code is read in (the jurisdictions).
_PHONE_REGIONS = ("CN", "US")


def normalise_national_id(value: str) -> str:
    """The stored form of a national ID: upper case, no spaces."""
    return "".join(value.split()).upper()


@dataclass(frozen=True)
class FullValues:
    """One search term read as each personal value it could be, normalised;
    ``None`` (or empty) where it cannot be that kind of value."""

    national_id: str | None = None
    date_of_birth: date | None = None
    phones: tuple[str, ...] = ()
    email: str | None = None
    address: str | None = None

    @property
    def fields(self) -> tuple[str, ...]:
        """The names of the personal fields the term is compared with."""
        names = (
            ("national_id", self.national_id),
            ("date_of_birth", self.date_of_birth),
            ("phone", self.phones),
            ("email", self.email),
            ("address", self.address),
        )
        return tuple(name for name, value in names if value)


def read_full_values(term: str) -> FullValues:
    """What ``term`` is as a national ID, date of birth, phone, email or
    address. A term with no digit and no ``@`` is none of them (a name)."""
    term = " ".join(term.split())
    if not term or len(term) > MAX_TERM_LENGTH:
        return FullValues()
    if "@" in term:
        return FullValues(email=term.lower()) if " " not in term else FullValues()
    if not any(ch.isdigit() for ch in term):
        return FullValues()
    national_id = normalise_national_id(term)
    id_shaped = bool(_NATIONAL_ID.fullmatch(national_id))
    # Letters and digits with spaces, or in a shape no ID has: a street
    # address ("北京市朝阳区建国路88号", "1600 Main St"), compared whole.
    address = any(ch.isalpha() for ch in term) and (" " in term or not id_shaped)
    return FullValues(
        national_id=national_id if id_shaped else None,
        date_of_birth=_iso_date(term),
        phones=_phones(term),
        address=term if address else None,
    )


def _iso_date(term: str) -> date | None:
    if not _ISO_DATE.fullmatch(term):
        return None
    try:
        return date.fromisoformat(term)
    except ValueError:
        return None


def _phones(term: str) -> tuple[str, ...]:
    if not _PHONE.fullmatch(term):
        return ()
    regions = (None,) if term.startswith("+") else _PHONE_REGIONS
    found = []
    for region in regions:
        try:
            number = phonenumbers.parse(term, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            if e164 not in found:
                found.append(e164)
    return tuple(found)


@dataclass(frozen=True)
class FullValueMatch:
    """The rows of a model holding the term as a whole personal value
    (``q``), and which personal fields the term was compared with."""

    q: Q
    fields: tuple[str, ...]


def _contact_point_q(values: FullValues) -> Q:
    q = Q(pk__in=[])
    if values.phones:
        q |= Q(kind=ContactPoint.Kind.PHONE, value__in=values.phones)
    if values.email:
        q |= Q(kind=ContactPoint.Kind.EMAIL, value__iexact=values.email)
    if values.address:
        q |= Q(kind=ContactPoint.Kind.ADDRESS, value=values.address)
    return q


def _third_party_q(values: FullValues) -> Q:
    return Q(phone__in=values.phones) if values.phones else Q(pk__in=[])


def _customer_q(values: FullValues) -> Q:
    q = Q(pk__in=[])
    if values.national_id:
        q |= Q(national_id=values.national_id)
    if values.date_of_birth:
        q |= Q(date_of_birth=values.date_of_birth)
    if values.phones or values.email or values.address:
        q |= Q(pk__in=ContactPoint.objects.filter(_contact_point_q(values)).values("customer_id"))
    if values.phones:
        q |= Q(pk__in=ThirdPartyContact.objects.filter(_third_party_q(values)).values("customer_id"))
    return q


_MATCHERS = {
    Customer: _customer_q,
    ContactPoint: _contact_point_q,
    ThirdPartyContact: _third_party_q,
}
# The personal fields each model can be searched by (a third party only by phone).
_SEARCHABLE = {
    Customer: ("national_id", "date_of_birth", "phone", "email", "address"),
    ContactPoint: ("phone", "email", "address"),
    ThirdPartyContact: ("phone",),
}


def full_value_match(model: type[Model], term: str) -> FullValueMatch | None:
    """The exact-match filter for ``term`` on ``model`` (``Customer``,
    ``ContactPoint`` or ``ThirdPartyContact``), or ``None`` when the term is
    no personal value that model holds (search the names only)."""
    values = read_full_values(term)
    fields = tuple(name for name in values.fields if name in _SEARCHABLE[model])
    if not fields:
        return None
    return FullValueMatch(q=_MATCHERS[model](values), fields=fields)
