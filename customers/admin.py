"""Screens for customers and how to reach them.

Personal data (issue #15, DESIGN.md): national IDs and dates of birth are
shown masked to every role, in the list, on the change form, in an old
version's form and in the history's field-level changes. A holder of
``customers.view_full_id`` reveals one value at a time with the "Reveal"
button of the change page (a POST with a reason); each reveal is written to
the access records (``customers.services.reveal_personal_value``), and may
correct the ID or date through write-only inputs that never show the value.

Search: names by part; national IDs, dates of birth, phones, emails,
addresses and third parties' phones only by the whole normalised value
(``customers.selectors.full_value_match``), and such a search is recorded.
No query-string lookup on those fields is allowed (``?national_id__regex=``
answers 400), and the masked column cannot be sorted: a partial match or an
ordering on the full value would turn the mask into an oracle.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models.constants import LOOKUP_SEP
from django.http import Http404, HttpResponseNotAllowed
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from backoffice.access import (
    can_view_full_id,
    contact_points_for,
    customers_for,
    third_parties_for,
)
from backoffice.admin import EstimatedCountPaginator, service_form_response
from backoffice.lockout import client_address
from customers.models import DATE_OF_BIRTH_MASK, ContactPoint, Customer, ThirdPartyContact, mask_national_id
from customers.selectors import full_value_match
from customers.services import (
    REASON_MAX_LENGTH,
    REVEALABLE_FIELDS,
    record_personal_search,
    reveal_personal_value,
    verify_contact_point,
)


def _where(request) -> str:
    return f"admin {client_address(request) or 'unknown address'}"


# Contact points one verification action takes (each is a conversation with
# the debtor, not a bulk edit).
VERIFY_AT_MOST = 20


class VerifyContactPointForm(forms.Form):
    consent = forms.TypedChoiceField(
        label=_("the debtor consents to be contacted there"),
        choices=[("yes", _("Yes")), ("no", _("No: opted out"))],
        coerce=lambda value: value == "yes",
    )
    reason = forms.CharField(label=_("reason"), max_length=100)


class PersonalDataSearchMixin:
    """Exact search and no query-string lookups on personal fields.

    ``search_fields`` names only what may match by part (names);
    ``personal_lookups`` are the field paths no ``?field__lookup=`` may
    filter on (Django raises ``DisallowedModelAdminLookup``: 400)."""

    personal_lookups: tuple[str, ...] = ()

    def lookup_allowed(self, lookup, value, request):
        if any(lookup == p or lookup.startswith(p + LOOKUP_SEP) for p in self.personal_lookups):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_search_results(self, request, queryset, search_term):
        named, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        match = full_value_match(self.model, search_term)
        if match is None:
            return named, may_have_duplicates
        record_personal_search(
            user=request.user,
            fields=match.fields,
            model_label=self.model._meta.model_name,
            where=_where(request),
        )
        return named | queryset.filter(match.q), may_have_duplicates


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
        if change.field == "date_of_birth":
            return DATE_OF_BIRTH_MASK if value else ""
        return super().prepare_delta_change_value(change, value)


class WriteOnlyInput(forms.TextInput):
    """A text input that never renders the stored value (nor a typed one)."""

    def format_value(self, value):
        return None


CUSTOMER_FIELDS = (
    "kind",
    "name",
    "national_id",
    "date_of_birth",
    "preferred_language",
    "jurisdiction",
    "region",
    "time_zone",
)


class CustomerCorrectionForm(forms.ModelForm):
    """The change form of a holder of ``customers.view_full_id``: the ID and
    the date of birth can be typed anew, and are kept when left empty."""

    class Meta:
        model = Customer
        fields = CUSTOMER_FIELDS
        widgets = {
            "national_id": WriteOnlyInput(attrs={"autocomplete": "off"}),
            "date_of_birth": WriteOnlyInput(attrs={"autocomplete": "off", "placeholder": "YYYY-MM-DD"}),
        }
        help_texts = {
            "national_id": _("Type the whole new ID to change it; leave empty to keep the stored one."),
            "date_of_birth": _("Type the new date to change it; leave empty to keep the stored one."),
        }

    def clean_national_id(self):
        return self.cleaned_data.get("national_id") or self.instance.national_id

    def clean_date_of_birth(self):
        return self.cleaned_data.get("date_of_birth") or self.instance.date_of_birth


class RevealForm(forms.Form):
    field = forms.ChoiceField(choices=list(REVEALABLE_FIELDS.items()))
    reason = forms.CharField(max_length=REASON_MAX_LENGTH, label=_("reason"))


# Each masked field shown read-only on the change form, by the field it hides.
MASKED_DISPLAYS = {"national_id": "masked_national_id", "date_of_birth": "masked_date_of_birth"}


@admin.register(Customer)
class CustomerAdmin(PersonalDataSearchMixin, SimpleHistoryAdmin):
    list_display = (
        "name",
        "kind",
        "masked_national_id",
        "jurisdiction",
        "region",
        "preferred_language",
        "time_zone",
    )
    list_filter = ("kind", "jurisdiction", "preferred_language")
    search_fields = ("name",)
    personal_lookups = (
        "national_id",
        "date_of_birth",
        "contact_points",
        "third_parties",
    )
    inlines = [ContactPointInline, ThirdPartyContactInline]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    change_form_template = "admin/customers/customer/change_form.html"
    fields = CUSTOMER_FIELDS

    def get_queryset(self, request):
        return customers_for(request.user)

    # No ``ordering``: sorting by the hidden value would tell it.
    @admin.display(description=_("national ID"))
    def masked_national_id(self, obj):
        return obj.masked_national_id

    @admin.display(description=_("date of birth"))
    def masked_date_of_birth(self, obj):
        return obj.masked_date_of_birth

    def get_fields(self, request, obj=None):
        if obj is None:
            # The add form takes the values the user types.
            return self.fields
        # A read-only page would print the stored value of any field it
        # lists: the write-only inputs exist only for those who may change.
        corrects = can_view_full_id(request.user) and self.has_change_permission(request, obj)
        fields = []
        for name in self.fields:
            if name in MASKED_DISPLAYS:
                fields.append(MASKED_DISPLAYS[name])
                if corrects:
                    fields.append(name)
            else:
                fields.append(name)
        return tuple(fields)

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly += tuple(MASKED_DISPLAYS.values())
        return readonly

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None and can_view_full_id(request.user) and self.has_change_permission(request, obj):
            kwargs["form"] = CustomerCorrectionForm
        return super().get_form(request, obj, change, **kwargs)

    def get_historical_record_context_helper(self, request, historical_record):
        return _MaskedHistoryHelper(self.model, historical_record)

    def get_urls(self):
        reveal = path(
            "<path:object_id>/reveal/",
            self.admin_site.admin_view(self.reveal_view),
            name="customers_customer_reveal",
        )
        return [reveal, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        if can_view_full_id(request.user):
            extra_context["reveal_form"] = RevealForm()
            extra_context["reveal_url"] = reverse("admin:customers_customer_reveal", args=[object_id])
        return super().change_view(request, object_id, form_url, extra_context)

    def reveal_view(self, request, object_id):
        """POST ``field`` and ``reason``: the page shows that one full value
        once; the reveal is written to the access records."""
        if not can_view_full_id(request.user):
            raise PermissionDenied
        customer = self.get_object(request, unquote(object_id))
        if customer is None:
            raise Http404
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        form = RevealForm(request.POST)
        value, status = None, 400
        if form.is_valid():
            try:
                value = reveal_personal_value(
                    user=request.user,
                    customer=customer,
                    field=form.cleaned_data["field"],
                    reason=form.cleaned_data["reason"],
                    where=_where(request),
                )
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    for message in messages:
                        form.add_error(field if field in form.fields else None, message)
            else:
                status = 200
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reveal personal data"),
            "opts": self.model._meta,
            "original": customer,
            "form": form,
            "field_label": REVEALABLE_FIELDS.get(form.cleaned_data.get("field", "")) if status == 200 else "",
            "value": value,
            "change_url": reverse("admin:customers_customer_change", args=[customer.pk]),
        }
        return TemplateResponse(request, "admin/customers/customer/reveal.html", context, status=status)


@admin.register(ContactPoint)
class ContactPointAdmin(PersonalDataSearchMixin, SimpleHistoryAdmin):
    list_display = ("value", "kind", "customer", "label", "verified", "primary", "consent", "do_not_contact")
    list_filter = ("kind", "verified", "primary", "consent", "do_not_contact")
    # The value matches only whole (PersonalDataSearchMixin).
    search_fields = ("customer__name",)
    personal_lookups = ("value", *(f"customer__{p}" for p in CustomerAdmin.personal_lookups))
    list_select_related = ("customer",)
    autocomplete_fields = ("customer",)
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    actions = ["verify_selected"]

    def get_queryset(self, request):
        return contact_points_for(request.user)

    def has_verify_permission(self, request):
        return request.user.has_perm("customers.verify_contactpoint")

    @admin.action(description=_("Verify with the debtor and record consent…"), permissions=["verify"])
    def verify_selected(self, request, queryset):
        """Ask whether the debtor consents and why, then call
        ``verify_contact_point`` for each selected point (issue #15: a
        skip-traced point is not dialled until this is done)."""
        if queryset.count() > VERIFY_AT_MOST:
            self.message_user(
                request,
                _("Verify at most %(n)d contact points at a time.") % {"n": VERIFY_AT_MOST},
                messages.ERROR,
            )
            return None
        if "apply" in request.POST:
            form = VerifyContactPointForm(request.POST)
            if form.is_valid():
                done, refused = 0, []
                for point in queryset:
                    try:
                        verify_contact_point(
                            contact_point=point,
                            consent=form.cleaned_data["consent"],
                            actor=request.user,
                            reason=form.cleaned_data["reason"],
                        )
                    except ValidationError as exc:  # NotAllowed included
                        refused.append(f"{point.get_kind_display()} #{point.pk}: {' '.join(exc.messages)}")
                    else:
                        done += 1
                self.message_user(
                    request,
                    _("%(done)d contact point(s) verified.") % {"done": done},
                    messages.SUCCESS if done else messages.WARNING,
                )
                for line in refused:
                    self.message_user(request, line, messages.ERROR)
                return None
        else:
            form = VerifyContactPointForm()
        return service_form_response(
            self,
            request,
            queryset.select_related("customer"),
            form=form,
            action="verify_selected",
            title=_("Verify contact points"),
            submit_label=_("Verify"),
            intro=_("Recorded with you, the time and the reason; the contact rules use the consent at once."),
        )


@admin.register(ThirdPartyContact)
class ThirdPartyContactAdmin(PersonalDataSearchMixin, SimpleHistoryAdmin):
    list_display = ("name", "relationship", "customer", "phone", "do_not_contact")
    list_filter = ("relationship", "do_not_contact")
    # The phone matches only whole (PersonalDataSearchMixin).
    search_fields = ("name", "customer__name")
    personal_lookups = ("phone", *(f"customer__{p}" for p in CustomerAdmin.personal_lookups))
    list_select_related = ("customer",)
    autocomplete_fields = ("customer",)
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def get_queryset(self, request):
        return third_parties_for(request.user)
