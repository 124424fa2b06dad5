"""Screens for customers and how to reach them.

National IDs are stored whole and shown masked unless the user holds
``customers.view_full_id`` (DESIGN.md): in the list, on the change form, in
an old version's form and in the history's field-level changes. Search
matches the full value for everyone, so a collector can find a customer by
the ID a caller reads out. Each full view of a customer's ID is logged and
written as an access record (``backoffice.services.record_access``).
"""

import logging

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from backoffice.access import (
    can_view_full_id,
    contact_points_for,
    customers_for,
    third_parties_for,
)
from backoffice.admin import EstimatedCountPaginator
from backoffice.models import AccessRecord
from backoffice.services import record_access
from customers.models import ContactPoint, Customer, ThirdPartyContact, mask_national_id

reveal_log = logging.getLogger("ledgerline.audit.national_id")


class ContactPointInline(admin.TabularInline):
    model = ContactPoint
    extra = 0
    fields = (
        "kind",
        "value",
        "label",
        "is_workplace",
        "verified",
        "primary",
        "consent",
        "do_not_contact",
        "source",
    )

    def get_queryset(self, request):
        return contact_points_for(request.user)


class ThirdPartyContactInline(admin.TabularInline):
    model = ThirdPartyContact
    extra = 0
    fields = ("relationship", "name", "phone", "do_not_contact")

    def get_queryset(self, request):
        return third_parties_for(request.user)


class _MaskedHistoryHelper(HistoricalRecordContextHelper):
    def prepare_delta_change_value(self, change, value):
        if change.field == "national_id":
            return mask_national_id(value or "")
        return super().prepare_delta_change_value(change, value)


@admin.register(Customer)
class CustomerAdmin(SimpleHistoryAdmin):
    list_display = (
        "name",
        "kind",
        "national_id",
        "jurisdiction",
        "region",
        "preferred_language",
        "time_zone",
    )
    list_filter = ("kind", "jurisdiction", "preferred_language")
    search_fields = ("name", "national_id", "contact_points__value")
    inlines = [ContactPointInline, ThirdPartyContactInline]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    fields = (
        "kind",
        "name",
        "national_id",
        "date_of_birth",
        "preferred_language",
        "jurisdiction",
        "region",
        "time_zone",
    )

    def get_queryset(self, request):
        return customers_for(request.user)

    @admin.display(description=_("national ID"), ordering="national_id")
    def masked_national_id(self, obj):
        return obj.masked_national_id

    def get_list_display(self, request):
        if can_view_full_id(request.user):
            return self.list_display
        return tuple("masked_national_id" if f == "national_id" else f for f in self.list_display)

    def _masks(self, request, obj) -> bool:
        # The add form takes the ID the user types; an existing ID is shown
        # masked and cannot be edited without the permission.
        return obj is not None and not can_view_full_id(request.user)

    def get_fields(self, request, obj=None):
        if self._masks(request, obj):
            return tuple("masked_national_id" if f == "national_id" else f for f in self.fields)
        return self.fields

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        if self._masks(request, obj):
            readonly += ("masked_national_id",)
        return readonly

    def get_historical_record_context_helper(self, request, historical_record):
        if can_view_full_id(request.user):
            return super().get_historical_record_context_helper(request, historical_record)
        return _MaskedHistoryHelper(self.model, historical_record)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200 and can_view_full_id(request.user):
            reveal_log.info(
                "national ID shown in full",
                extra={"user_id": request.user.pk, "customer_id": object_id},
            )
            customer = self.get_object(request, object_id)
            if customer is not None and customer.national_id:
                record_access(user=request.user, action=AccessRecord.Action.REVEAL_NATIONAL_ID, obj=customer)
        return response


@admin.register(ContactPoint)
class ContactPointAdmin(SimpleHistoryAdmin):
    list_display = ("value", "kind", "customer", "label", "verified", "primary", "consent", "do_not_contact")
    list_filter = ("kind", "verified", "primary", "consent", "do_not_contact")
    search_fields = ("value", "customer__name")
    list_select_related = ("customer",)
    autocomplete_fields = ("customer",)
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def get_queryset(self, request):
        return contact_points_for(request.user)


@admin.register(ThirdPartyContact)
class ThirdPartyContactAdmin(SimpleHistoryAdmin):
    list_display = ("name", "relationship", "customer", "phone", "do_not_contact")
    list_filter = ("relationship", "do_not_contact")
    search_fields = ("name", "phone", "customer__name")
    list_select_related = ("customer",)
    autocomplete_fields = ("customer",)
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def get_queryset(self, request):
        return third_parties_for(request.user)
