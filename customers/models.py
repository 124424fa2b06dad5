"""People and companies we collect from, and how we may reach them."""

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Jurisdiction(models.TextChoices):
    CN = "CN", _("China (mainland)")
    US = "US", _("United States")


def mask_national_id(value: str) -> str:
    """Show only the last four characters: ``**************1234``."""
    if not value:
        return ""
    if len(value) <= 4:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]


# What every screen and the API show for a stored date of birth (issue #15).
DATE_OF_BIRTH_MASK = "****-**-**"


class Customer(models.Model):
    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        COMPANY = "company", _("Company")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PERSON)
    name = models.CharField(_("legal name"), max_length=200, db_index=True)
    national_id = models.CharField(
        _("national ID"),
        max_length=40,
        blank=True,
        db_index=True,
        help_text=_("Stored whole; shown masked unless the user may view full IDs."),
    )
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    preferred_language = models.CharField(
        _("preferred language"),
        max_length=10,
        choices=[("en", "English"), ("zh-hans", "简体中文")],
        default="zh-hans",
    )
    jurisdiction = models.CharField(
        _("jurisdiction"), max_length=2, choices=Jurisdiction.choices, default=Jurisdiction.CN
    )
    region = models.CharField(_("region"), max_length=60, blank=True, help_text=_("Province or US state."))
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        null=True,
        blank=True,
        help_text=_("IANA name; empty when unknown."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        permissions = [("view_full_id", "Can view full national IDs")]

    def __str__(self) -> str:
        return self.name

    @property
    def masked_national_id(self) -> str:
        return mask_national_id(self.national_id)

    @property
    def masked_date_of_birth(self) -> str:
        return DATE_OF_BIRTH_MASK if self.date_of_birth else ""

    def clean(self):
        if self.time_zone:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(self.time_zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValidationError({"time_zone": _("Unknown time zone.")}) from None


def normalise_phone(value: str, region: str | None) -> str:
    """Parse ``value`` and return it in E.164, or raise ``ValidationError``."""
    try:
        number = phonenumbers.parse(value, region or None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("Not a phone number: %(value)s"), params={"value": value}) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("Not a valid phone number: %(value)s"), params={"value": value})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class ContactPoint(models.Model):
    class Kind(models.TextChoices):
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("Email")
        ADDRESS = "address", _("Postal address")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contact_points")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    value = models.CharField(_("value"), max_length=300)
    label = models.CharField(_("label"), max_length=40, blank=True, help_text=_("home, mobile, work…"))
    is_workplace = models.BooleanField(_("at the workplace"), default=False)
    verified = models.BooleanField(_("verified"), default=False)
    primary = models.BooleanField(_("primary"), default=False)
    # Three-valued (issue #15): True consented, False revoked (opted out),
    # None unknown — a number found by a skip trace, not dialled or messaged
    # until a collector verifies it (``customers.services.verify_contact_point``;
    # the contact rules refuse it with ``LL-CONSENT-UNKNOWN``).
    consent = models.BooleanField(
        _("consent"),
        null=True,
        default=True,
        help_text=_("Unknown (empty): skip-traced, not contacted until verified."),
    )
    do_not_contact = models.BooleanField(_("do not contact"), default=False)
    source = models.CharField(_("source"), max_length=40, default="creditor")
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["customer_id", "-primary", "id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "kind", "value"], name="contactpoint_unique_value"),
        ]
        permissions = [("verify_contactpoint", "Can verify a contact point and record its consent")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"

    @property
    def consent_unknown(self) -> bool:
        """Skip-traced and not yet verified: not to be dialled or messaged."""
        return self.consent is None

    def clean(self):
        if self.kind == self.Kind.PHONE and self.value:
            region = (
                "CN"
                if self.customer_id is None
                else ("US" if self.customer.jurisdiction == Jurisdiction.US else "CN")
            )
            try:
                self.value = normalise_phone(self.value, region)
            except ValidationError as exc:
                raise ValidationError({"value": exc.messages}) from None
        elif self.kind == self.Kind.EMAIL and self.value:
            from django.core.validators import validate_email

            self.value = self.value.strip()
            try:
                validate_email(self.value)
            except ValidationError as exc:
                raise ValidationError({"value": exc.messages}) from None


class ThirdPartyContact(models.Model):
    """A relative, employer or reference: for locating the debtor only (RULES §4)."""

    class Relationship(models.TextChoices):
        RELATIVE = "relative", _("Relative")
        SPOUSE = "spouse", _("Spouse")
        EMPLOYER = "employer", _("Employer")
        REFERENCE = "reference", _("Reference")
        OTHER = "other", _("Other")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="third_parties")
    relationship = models.CharField(_("relationship"), max_length=20, choices=Relationship.choices)
    name = models.CharField(_("name"), max_length=200)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    do_not_contact = models.BooleanField(_("do not contact"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["customer_id", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_relationship_display()})"

    def clean(self):
        if self.phone:
            region = "US" if self.customer_id and self.customer.jurisdiction == "US" else "CN"
            try:
                self.phone = normalise_phone(self.phone, region)
            except ValidationError as exc:
                raise ValidationError({"phone": exc.messages}) from None
