"""Customers, contact points and third parties as the API shows them.

National IDs and dates of birth are shown masked to every role, in lists and
details alike (issue #15): a holder of ``customers.view_full_id`` reveals one
value at a time through ``POST customers/{id}/reveal/`` (``RevealSerializer``),
which writes an access record. A client that sends back the masked value it
read keeps the stored one.
"""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField

from backoffice.api import CleanModelSerializer
from customers.models import DATE_OF_BIRTH_MASK, ContactPoint, Customer, ThirdPartyContact
from customers.services import REASON_MAX_LENGTH, REVEALABLE_FIELDS


@extend_schema_field({"type": "string", "example": DATE_OF_BIRTH_MASK, "nullable": True})
class MaskedDateOfBirthField(serializers.DateField):
    """Written as a date; read as ``****-**-**`` (or null when unknown).
    The mask sent back unchanged on an update keeps the stored date."""

    def to_representation(self, value):
        return DATE_OF_BIRTH_MASK if value else None

    def to_internal_value(self, value):
        if value == DATE_OF_BIRTH_MASK:
            if getattr(self.parent, "instance", None) is not None:
                raise SkipField
            raise serializers.ValidationError(_("Send the whole date; a masked value cannot be saved."))
        return super().to_internal_value(value)


class CustomerSerializer(CleanModelSerializer):
    change_reason = "customer changed through the API"

    time_zone = serializers.CharField(
        max_length=64,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text=_("IANA name (e.g. Asia/Shanghai); null when unknown."),
    )
    date_of_birth = MaskedDateOfBirthField(
        required=False,
        allow_null=True,
        help_text=_("Masked; reveal it with customers/{id}/reveal/."),
    )

    class Meta:
        model = Customer
        fields = [
            "id",
            "kind",
            "name",
            "national_id",
            "date_of_birth",
            "preferred_language",
            "jurisdiction",
            "region",
            "time_zone",
            "created_at",
        ]
        extra_kwargs = {
            "national_id": {
                "help_text": _("Masked (last four characters); reveal it with customers/{id}/reveal/.")
            }
        }

    def validate_time_zone(self, value):
        return value or None

    def validate_national_id(self, value):
        if "*" not in value:
            return value
        # A client that read a masked ID and sends it back unchanged (PUT of
        # what it got) keeps the stored ID; any other masked value is refused.
        if self.instance is not None and value == self.instance.masked_national_id:
            return self.instance.national_id
        raise serializers.ValidationError(_("Send the whole ID; a masked value cannot be saved."))

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["national_id"] = instance.masked_national_id
        return data


class RevealSerializer(serializers.Serializer):
    """``POST customers/{id}/reveal/``: which masked field, and why."""

    field = serializers.ChoiceField(choices=list(REVEALABLE_FIELDS.items()))
    reason = serializers.CharField(
        max_length=REASON_MAX_LENGTH,
        help_text=_("Why you need the full value; kept in the access records."),
    )


class RevealedValueSerializer(serializers.Serializer):
    field = serializers.CharField()
    value = serializers.CharField(help_text=_("The full value; empty when none is stored."))


def _errors_on(exc: DjangoValidationError, field: str) -> DjangoValidationError:
    """Move the row-level errors of ``clean()`` onto the field they are about."""
    errors = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
    moved = {key: msgs for key, msgs in errors.items() if key != NON_FIELD_ERRORS}
    if NON_FIELD_ERRORS in errors:
        moved[field] = moved.get(field, []) + errors[NON_FIELD_ERRORS]
    return DjangoValidationError(moved)


class CustomerChildSerializer(CleanModelSerializer):
    """A row that belongs to the customer named in the URL (``context["customer"]``)."""

    # The field a ``clean()`` error is about (a bad phone number).
    clean_errors_field = ""

    def instance_defaults(self) -> dict:
        return {"customer": self.context["customer"]}

    def clean_candidate(self, candidate) -> None:
        try:
            candidate.full_clean()
        except DjangoValidationError as exc:
            raise _errors_on(exc, self.clean_errors_field) from None


class ContactPointSerializer(CustomerChildSerializer):
    change_reason = "contact point changed through the API"
    clean_errors_field = "value"

    class Meta:
        model = ContactPoint
        fields = [
            "id",
            "customer",
            "kind",
            "value",
            "label",
            "verified",
            "primary",
            "consent",
            "do_not_contact",
            "is_workplace",
            "source",
            "created_at",
        ]
        read_only_fields = ["customer"]
        extra_kwargs = {"value": {"help_text": _("Phones are stored in E.164 (+8613812345678).")}}
        # The (customer, kind, value) constraint is checked by full_clean()
        # once the phone is normalised; DRF's own check would compare the raw value.
        validators = []


class ThirdPartyContactSerializer(CustomerChildSerializer):
    change_reason = "third party changed through the API"
    clean_errors_field = "phone"

    class Meta:
        model = ThirdPartyContact
        fields = ["id", "customer", "relationship", "name", "phone", "do_not_contact", "created_at"]
        read_only_fields = ["customer"]


class VerifyContactPointSerializer(serializers.Serializer):
    """``POST customers/{id}/contact-points/{pk}/verify/``: the debtor
    confirmed the number (or address) is theirs, and said whether they
    consent to be contacted there (issue #15: skip-traced points start with
    consent unknown and are not dialled until verified)."""

    consent = serializers.BooleanField(
        help_text=_("true: the debtor consents to contact there; false: they opted out.")
    )
    reason = serializers.CharField(
        max_length=100, help_text=_("Why; kept on the history row (at most 100 characters).")
    )
