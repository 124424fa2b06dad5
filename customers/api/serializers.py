"""Customers, contact points and third parties as the API shows them.

National IDs are stored whole and shown masked unless the user may view full
IDs (DESIGN.md); the view decides once per request and passes ``full_id`` in
the serializer context. Each full ID shown is logged, and the view writes
an access record for it (``CustomerViewSet.finalize_response``).
"""

import logging

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from backoffice.api import CleanModelSerializer
from customers.models import ContactPoint, Customer, ThirdPartyContact

audit_log = logging.getLogger("ledgerline.audit")


class CustomerSerializer(CleanModelSerializer):
    change_reason = "customer changed through the API"

    time_zone = serializers.CharField(
        max_length=64,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text=_("IANA name (e.g. Asia/Shanghai); null when unknown."),
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
            "national_id": {"help_text": _("Masked (last four characters) unless you may view full IDs.")}
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
        if self.context.get("full_id"):
            if instance.national_id:
                request = self.context.get("request")
                audit_log.info(
                    "full national ID shown",
                    extra={"user_id": getattr(request.user, "pk", None), "customer_id": instance.pk},
                )
                revealed = self.context.get("revealed")
                if revealed is not None:
                    revealed.append(instance)
        else:
            data["national_id"] = instance.masked_national_id
        return data


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
