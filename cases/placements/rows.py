"""One row of a placement file → a checked account, or the reasons it is refused.

The account part (account number, product, currency, schedule) goes through
``cases.services.placement.validate_placement``, the very rules behind
``POST debts/``; this module only turns the creditor's text (their headers,
their date format, their decimal separator) into that function's input and
maps its field errors back to the file's columns. Customer and contact
fields follow the models' own rules (choices, lengths, ``normalise_phone``,
Django's email validator, IANA time zones).
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from backoffice.money import ZERO, PlainAmountError, parse_plain_amount, to_money
from cases.models import Creditor, Product
from cases.placements.models import ALWAYS_REQUIRED, PlacementLayout
from cases.services.placement import PlacementPlan, validate_placement
from customers.models import ContactPoint, Customer, Jurisdiction, normalise_phone

_KINDS = set(Customer.Kind.values)
_LANGUAGES = {code for code, _label in Customer._meta.get_field("preferred_language").choices}
_JURISDICTIONS = set(Jurisdiction.values)
_NAME_MAX = Customer._meta.get_field("name").max_length
_ID_MAX = Customer._meta.get_field("national_id").max_length
_REGION_MAX = Customer._meta.get_field("region").max_length
_VALUE_MAX = ContactPoint._meta.get_field("value").max_length


@dataclass
class RowError:
    column: str
    reason: str


@dataclass
class ParsedRow:
    """A row that passed every rule: enough to build its rows without the file."""

    line: int
    product_id: int
    plan: PlacementPlan
    customer: dict
    contacts: list[tuple[str, str]] = field(default_factory=list)


def layout_for(creditor: Creditor) -> PlacementLayout:
    """The creditor's layout, or the default one (our field names as headers)."""
    layout = PlacementLayout.objects.filter(creditor=creditor).first()
    return layout or PlacementLayout(creditor=creditor)


def required_headers(layout: PlacementLayout, header: tuple[str, ...]) -> tuple[list[str], str]:
    """The headers a file must carry, and whether its schedule is the encoded
    ``schedule`` column or single ``due_on``/``principal`` columns."""
    columns = layout.columns()
    required = [columns.get(name, name) for name in ALWAYS_REQUIRED]
    present = set(header)
    if columns.get("schedule") and columns["schedule"] in present:
        return required, "schedule"
    single = [columns.get("due_on") or "due_on", columns.get("principal") or "principal"]
    if all(name in present for name in single):
        return required, "single"
    # Neither form: name both so the operator can choose.
    return [*required, columns.get("schedule") or "schedule"], "schedule"


@lru_cache(maxsize=512)
def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


class RowReader:
    """Parses rows of one file for one creditor (products looked up once)."""

    def __init__(self, *, creditor: Creditor, layout: PlacementLayout, schedule_form: str):
        self.creditor = creditor
        self.layout = layout
        self.columns = layout.columns()
        self.schedule_form = schedule_form
        self.iso_dates = layout.date_format in ("", "%Y-%m-%d")
        products = list(Product.objects.filter(creditor=creditor).select_related("policy", "creditor"))
        self.products = {p.name.strip().casefold(): p for p in products}
        self.products.update({str(p.pk): p for p in products})
        self.products_by_id = {p.pk: p for p in products}

    # -- cells ------------------------------------------------------------------

    def header(self, name: str) -> str:
        return self.columns.get(name) or name

    def text(self, row: dict, name: str) -> str:
        header = self.columns.get(name)
        return row.get(header, "").strip() if header else ""

    def date(self, value: str) -> datetime.date:
        if self.iso_dates:
            # The common layout: ``fromisoformat`` is ~20× faster than ``strptime``.
            try:
                return datetime.date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None
        try:
            return datetime.datetime.strptime(value, self.layout.date_format).date()
        except ValueError:
            try:
                return datetime.date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a date ({self.layout.date_format})") from None

    def amount(self, value: str) -> Decimal:
        """A plain decimal with at most two places (``parse_plain_amount``),
        after taking out the separators this creditor's layout declares: no
        exponents, ``NaN`` or undeclared separators (``1,000`` is refused
        unless the layout says commas group thousands)."""
        text = value
        if self.layout.thousands_separator:
            text = text.replace(self.layout.thousands_separator, "")
        if self.layout.decimal_separator != ".":
            # Spreadsheet number cells arrive with a point whatever the layout.
            text = text.replace(self.layout.decimal_separator, ".")
        try:
            return to_money(parse_plain_amount(text))
        except PlainAmountError:
            raise ValueError(
                f"{value!r} is not an amount: digits with at most two decimals, "
                "without exponents or separators the layout does not declare"
            ) from None

    # -- the row ----------------------------------------------------------------

    def parse(self, line: int, row: dict) -> tuple[ParsedRow | None, list[RowError]]:
        errors: list[RowError] = []
        product = self._product(row, errors)
        customer = self._customer(row, product, errors)
        contacts = self._contacts(row, customer, errors)
        opened_on = self._date_field(row, "opened_on", errors, required=True)
        instalments = self._schedule(row, errors)
        plan = None
        if product is not None and opened_on is not None and instalments is not None:
            try:
                plan = validate_placement(
                    creditor=self.creditor,
                    product=product,
                    account_number=self.text(row, "account_number"),
                    currency=self.text(row, "currency").upper() or product.policy.currency,
                    opened_on=opened_on,
                    instalments=instalments,
                )
            except ValidationError as exc:
                errors.extend(self._placement_errors(exc))
        elif not self.text(row, "account_number"):
            errors.append(RowError(self.header("account_number"), "An account number is required."))
        if plan is not None:
            self._check_total(row, plan, errors)
        if errors or plan is None:
            return None, errors
        return ParsedRow(
            line=line, product_id=product.pk, plan=plan, customer=customer, contacts=contacts
        ), []

    def _product(self, row, errors) -> Product | None:
        value = self.text(row, "product")
        product = self.products.get(value.casefold()) if value else None
        if product is None:
            reason = f"Unknown product {value!r} for {self.creditor}." if value else "A product is required."
            errors.append(RowError(self.header("product"), reason))
        return product

    def _date_field(self, row, name, errors, *, required=False) -> datetime.date | None:
        value = self.text(row, name)
        if not value:
            if required:
                errors.append(RowError(self.header(name), "A date is required."))
            return None
        try:
            return self.date(value)
        except ValueError as exc:
            errors.append(RowError(self.header(name), f"Bad date: {exc}."))
            return None

    def _customer(self, row, product, errors) -> dict:
        policy_jurisdiction = product.policy.jurisdiction if product is not None else Jurisdiction.CN
        name = self.text(row, "name")
        if not name:
            errors.append(RowError(self.header("name"), "The customer's name is required."))
        elif len(name) > _NAME_MAX:
            errors.append(RowError(self.header("name"), f"A name has at most {_NAME_MAX} characters."))
        kind = self.text(row, "kind").lower() or Customer.Kind.PERSON
        if kind not in _KINDS:
            errors.append(RowError(self.header("kind"), f"Kind must be one of {', '.join(sorted(_KINDS))}."))
        national_id = self.text(row, "national_id").upper()
        if len(national_id) > _ID_MAX:
            errors.append(
                RowError(self.header("national_id"), f"A national ID has at most {_ID_MAX} characters.")
            )
        jurisdiction = self.text(row, "jurisdiction").upper() or policy_jurisdiction
        if jurisdiction not in _JURISDICTIONS:
            errors.append(
                RowError(
                    self.header("jurisdiction"),
                    f"Jurisdiction must be one of {', '.join(sorted(_JURISDICTIONS))}.",
                )
            )
        language = self.text(row, "preferred_language").lower() or (
            "en" if jurisdiction == Jurisdiction.US else "zh-hans"
        )
        if language not in _LANGUAGES:
            errors.append(
                RowError(
                    self.header("preferred_language"),
                    f"Language must be one of {', '.join(sorted(_LANGUAGES))}.",
                )
            )
        time_zone = self.text(row, "time_zone") or None
        if time_zone and not _known_zone(time_zone):
            errors.append(RowError(self.header("time_zone"), f"Unknown time zone {time_zone!r}."))
        region = self.text(row, "region")
        if len(region) > _REGION_MAX:
            errors.append(RowError(self.header("region"), f"A region has at most {_REGION_MAX} characters."))
        date_of_birth = self._date_field(row, "date_of_birth", errors)
        return {
            "kind": kind,
            "name": name,
            "national_id": national_id,
            "date_of_birth": date_of_birth,
            "preferred_language": language,
            "jurisdiction": jurisdiction,
            "region": region,
            "time_zone": time_zone,
        }

    def _contacts(self, row, customer, errors) -> list[tuple[str, str]]:
        contacts = []
        phone = self.text(row, "phone")
        if phone:
            region = "US" if customer["jurisdiction"] == Jurisdiction.US else "CN"
            try:
                contacts.append((ContactPoint.Kind.PHONE, normalise_phone(phone, region)))
            except ValidationError as exc:
                errors.append(RowError(self.header("phone"), " ".join(exc.messages)))
        email = self.text(row, "email")
        if email:
            try:
                validate_email(email)
                contacts.append((ContactPoint.Kind.EMAIL, email))
            except ValidationError:
                errors.append(RowError(self.header("email"), f"Not a valid email address: {email}"))
        address = self.text(row, "address")
        if address:
            if len(address) > _VALUE_MAX:
                errors.append(
                    RowError(self.header("address"), f"An address has at most {_VALUE_MAX} characters.")
                )
            else:
                contacts.append((ContactPoint.Kind.ADDRESS, address))
        return contacts

    def _schedule(self, row, errors) -> list[dict] | None:
        if self.schedule_form == "single":
            return self._single(row, errors)
        column = self.header("schedule")
        value = self.text(row, "schedule")
        if not value:
            errors.append(RowError(column, "The instalment schedule is empty."))
            return None
        lines = []
        for n, part in enumerate(value.split(self.layout.schedule_separator or ";"), start=1):
            part = part.strip()
            if not part:
                continue
            pieces = [p.strip() for p in part.split(":")]
            if len(pieces) not in (2, 3):
                errors.append(
                    RowError(column, f"Instalment {n}: write due:principal:interest, not {part!r}.")
                )
                return None
            try:
                lines.append(
                    {
                        "due_on": self.date(pieces[0]),
                        "principal": self.amount(pieces[1]),
                        "interest": self.amount(pieces[2]) if len(pieces) == 3 and pieces[2] else ZERO,
                    }
                )
            except ValueError as exc:
                errors.append(RowError(column, f"Instalment {n}: {exc}."))
                return None
        return lines

    def _single(self, row, errors) -> list[dict] | None:
        due_on = self._date_field(row, "due_on", errors, required=True)
        amounts = {}
        for name in ("principal", "interest"):
            value = self.text(row, name)
            if not value:
                if name == "principal":
                    errors.append(RowError(self.header(name), "The principal is required."))
                amounts[name] = ZERO
                continue
            try:
                amounts[name] = self.amount(value)
            except ValueError as exc:
                errors.append(RowError(self.header(name), f"{exc}."))
        if due_on is None or len(amounts) < 2 or errors:
            return None
        return [{"due_on": due_on, **amounts}]

    def _placement_errors(self, exc: ValidationError) -> list[RowError]:
        schedule_column = self.header("schedule" if self.schedule_form == "schedule" else "due_on")
        where = {
            "account_number": self.header("account_number"),
            "product": self.header("product"),
            "currency": self.header("currency"),
            "instalments": schedule_column,
        }
        found = []
        for key, messages in exc.message_dict.items():
            for message in messages:
                found.append(RowError(where.get(key, key), message))
        return found

    def _check_total(self, row, plan: PlacementPlan, errors) -> None:
        value = self.text(row, "total")
        if not value:
            return
        column = self.header("total")
        try:
            total = self.amount(value)
        except ValueError as exc:
            errors.append(RowError(column, f"{exc}."))
            return
        owed = sum((line["principal"] + line["interest"] for line in plan.schedule), ZERO)
        if total != owed:
            errors.append(
                RowError(column, f"The total {total} does not add up: principal + interest is {owed}.")
            )


def sample_rows(layout: PlacementLayout, product_name: str) -> tuple[list[str], list[list[str]]]:
    """A header and two example rows in ``layout``'s format (admin's sample file)."""
    columns = layout.columns()
    fmt = layout.date_format or "%Y-%m-%d"

    def day(value: datetime.date) -> str:
        return value.strftime(fmt)

    def money(value: str) -> str:
        whole, cents = value.split(".")
        if layout.thousands_separator and len(whole) > 3:
            whole = f"{int(whole):,}".replace(",", layout.thousands_separator)
        return f"{whole}{layout.decimal_separator}{cents}"

    opened = datetime.date(2026, 1, 1)
    dues = [datetime.date(2026, 1, 31), datetime.date(2026, 3, 2), datetime.date(2026, 4, 1)]
    sep = layout.schedule_separator or ";"
    examples = [
        {
            "account_number": "LN-0001",
            "name": "张伟",
            "kind": "person",
            "national_id": "110101199001011234",
            "date_of_birth": day(datetime.date(1990, 1, 1)),
            "preferred_language": "zh-hans",
            "jurisdiction": "CN",
            "region": "北京",
            "time_zone": "Asia/Shanghai",
            "phone": "13800138000",
            "email": "zhang.wei@example.com",
            "address": "北京市东城区示例路1号",
            "schedule": sep.join(f"{day(d)}:{money('1000.00')}:{money('50.00')}" for d in dues),
            "due_on": day(dues[-1]),
            "principal": money("3000.00"),
            "interest": money("150.00"),
            "total": money("3150.00"),
        },
        {
            "account_number": "LN-0002",
            "name": "Example Trading Co.",
            "kind": "company",
            "national_id": "91110000600037341L",
            "preferred_language": "en",
            "jurisdiction": "CN",
            "phone": "+8613900139000",
            "schedule": f"{day(dues[0])}:{money('1200.00')}:{money('0.00')}",
            "due_on": day(dues[0]),
            "principal": money("1200.00"),
            "interest": money("0.00"),
            "total": money("1200.00"),
        },
    ]
    # Both schedule forms are in a layout; the sample shows the encoded one
    # when the layout names a schedule column.
    fields = [
        name
        for name in columns
        if not (columns.get("schedule") and name in ("due_on", "principal", "interest"))
    ]
    header = [columns[name] for name in fields]
    body = []
    for example in examples:
        values = {**example, "product": product_name, "currency": "", "opened_on": day(opened)}
        body.append([values.get(name, "") for name in fields])
    return header, body
