"""Bureau furnishing screens: furnisher profiles, each account's furnishing
details and co-borrowers, and the monthly submissions (list, detail with the
file to download, the bureau's answer recorded through a service).

Rows come from ``backoffice.access``; every business write goes through
``cases.bureau.services``.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from backoffice.access import (
    associated_consumers_for,
    bureau_submissions_for,
    customers_for,
    debts_for,
    furnisher_profiles_for,
    furnishing_states_for,
)
from backoffice.admin import EstimatedCountPaginator, ServiceOnlyAdmin
from backoffice.models import AccessRecord
from backoffice.services import record_download
from cases.bureau import services
from cases.bureau.models import AssociatedConsumer, BureauSubmission, FurnisherProfile, FurnishingState
from cases.bureau.transport import TransportError


def _form_page(model_admin, request, *, form, title, submit_label, intro=""):
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": title,
        "intro": intro,
        "form": form,
        "submit_label": submit_label,
    }
    return TemplateResponse(request, "admin/ledgerline/service_form.html", context)


@admin.register(FurnisherProfile)
class FurnisherProfileAdmin(SimpleHistoryAdmin):
    list_display = ("creditor", "identification_number", "portfolio_type", "account_type", "enabled")
    list_select_related = ("creditor",)
    list_filter = ("enabled", "portfolio_type")

    def get_queryset(self, request):
        return furnisher_profiles_for(request.user).select_related("creditor")


class MarkInErrorForm(forms.Form):
    debt = forms.IntegerField(label=_("debt id"))
    reason = forms.CharField(label=_("reason"), max_length=100)


@admin.register(FurnishingState)
class FurnishingStateAdmin(ServiceOnlyAdmin):
    list_display = (
        "debt",
        "original_creditor_name",
        "purchased_sold",
        "prenotified_on",
        "reported_in_error",
        "deletion_period",
    )
    list_select_related = ("debt__creditor",)
    list_filter = ("reported_in_error",)
    raw_id_fields = ("debt", "prenotice", "error_marked_by")
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def get_queryset(self, request):
        return furnishing_states_for(request.user).select_related("debt__creditor")

    def get_urls(self):
        view = self.admin_site.admin_view(self.mark_in_error_view)
        return [
            path("mark-in-error/", view, name="bureau_furnishingstate_mark_in_error"),
            *super().get_urls(),
        ]

    def mark_in_error_view(self, request):
        """Mark an account reported in error: the next file deletes it (DA)."""
        if not request.user.has_perm("bureau.change_furnishingstate"):
            raise PermissionDenied
        form = MarkInErrorForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            debt = debts_for(request.user).filter(pk=form.cleaned_data["debt"]).first()
            if debt is None:
                form.add_error("debt", gettext("No such debt."))
            else:
                try:
                    services.mark_reported_in_error(
                        debt=debt,
                        actor=request.user,
                        reason=form.cleaned_data["reason"],
                        on=timezone.localdate(),
                    )
                except ValidationError as exc:
                    form.add_error(None, exc.messages)
                else:
                    self.message_user(
                        request, gettext("Debt %s will be deleted (DA) in the next file.") % debt
                    )
                    return HttpResponseRedirect(reverse("admin:bureau_furnishingstate_changelist"))
        return _form_page(
            self,
            request,
            form=form,
            title=gettext("Mark an account reported in error"),
            submit_label=gettext("Mark reported in error"),
        )


class AssociatedConsumerForm(forms.ModelForm):
    class Meta:
        model = AssociatedConsumer
        fields = ("debt", "customer", "ecoa_code", "own_address")

    def clean(self):
        data = super().clean()
        debt, customer = data.get("debt"), data.get("customer")
        if debt is not None and customer is not None and debt.customer_id == customer.pk:
            raise ValidationError(_("The primary consumer is already on the base segment."))
        return data


@admin.register(AssociatedConsumer)
class AssociatedConsumerAdmin(SimpleHistoryAdmin):
    form = AssociatedConsumerForm
    list_display = ("debt", "customer", "ecoa_code", "own_address")
    list_select_related = ("debt__creditor", "customer")
    raw_id_fields = ("debt", "customer")
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def get_queryset(self, request):
        return associated_consumers_for(request.user).select_related("debt__creditor", "customer")

    def has_change_permission(self, request, obj=None):
        return False  # changed through the service only (add again to change the ECOA code)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "debt":
            kwargs["queryset"] = debts_for(request.user)
        elif db_field.name == "customer":
            kwargs["queryset"] = customers_for(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        saved = services.add_associated_consumer(
            debt=obj.debt,
            customer=obj.customer,
            ecoa_code=obj.ecoa_code,
            own_address=obj.own_address,
            actor=request.user,
            reason="co-borrower added in admin",
        )
        obj.pk = saved.pk


class ResponseForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("the bureau"),
        choices=[("accepted", _("accepted the file")), ("rejected", _("rejected the file"))],
    )
    error_lines = forms.CharField(label=_("error lines"), widget=forms.Textarea, required=False)
    reason = forms.CharField(label=_("reason"), max_length=100, initial="bureau response recorded")


@admin.register(BureauSubmission)
class BureauSubmissionAdmin(ServiceOnlyAdmin):
    list_display = (
        "period_label",
        "creditor",
        "status",
        "base_records",
        "total_current_balance",
        "total_amount_past_due",
        "generated_at",
        "sent_at",
    )
    list_filter = ("status", "creditor")
    list_select_related = ("creditor",)
    date_hierarchy = "period"
    actions = ["send_files"]
    fields = (
        "creditor",
        "period",
        "status",
        "download",
        "record_response",
        "base_records",
        "j1_segments",
        "j2_segments",
        "k1_segments",
        "k2_segments",
        "k4_segments",
        "status_counts",
        "skipped",
        "total_current_balance",
        "total_amount_past_due",
        "generated_at",
        "sent_at",
        "transport_reference",
        "responded_at",
        "error_lines",
        "created_by",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return bureau_submissions_for(request.user).select_related("creditor")

    @admin.display(description=_("period"), ordering="period")
    def period_label(self, obj):
        return obj.period_label

    @admin.display(description=_("file"))
    def download(self, obj):
        if not obj.file:
            return "—"
        url = reverse("admin:bureau_bureausubmission_download", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.file_name or obj.file.name)

    @admin.display(description=_("bureau's answer"))
    def record_response(self, obj):
        if obj.status != BureauSubmission.Status.SENT:
            return obj.get_status_display()
        url = reverse("admin:bureau_bureausubmission_respond", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Record accepted / rejected"))

    def get_urls(self):
        return [
            path(
                "<path:object_id>/download/",
                self.admin_site.admin_view(self.download_view),
                name="bureau_bureausubmission_download",
            ),
            path(
                "<path:object_id>/respond/",
                self.admin_site.admin_view(self.respond_view),
                name="bureau_bureausubmission_respond",
            ),
            *super().get_urls(),
        ]

    def _visible(self, request, object_id) -> BureauSubmission:
        obj = self.get_queryset(request).filter(pk=object_id).first() if str(object_id).isdigit() else None
        if obj is None:
            raise Http404
        return obj

    def download_view(self, request, object_id):
        """The submission's Metro 2 file: every account's name, ID, birth
        date and address, so each download writes an access record
        (``DOWNLOAD_METRO2``: the file and its number of base records)."""
        obj = self._visible(request, object_id)
        if not obj.file:
            raise Http404
        try:
            handle = obj.file.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        record_download(
            user=request.user,
            action=AccessRecord.Action.DOWNLOAD_METRO2,
            obj=obj,
            file_name=obj.file_name or obj.file.name,
            rows=obj.base_records,
        )
        return FileResponse(handle, as_attachment=True, filename=obj.file_name, content_type="text/plain")

    def respond_view(self, request, object_id):
        obj = self._visible(request, object_id)
        if not request.user.has_perm("bureau.change_bureausubmission"):
            raise PermissionDenied
        form = ResponseForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.record_bureau_response(
                    submission=obj,
                    accepted=form.cleaned_data["outcome"] == "accepted",
                    error_lines=form.cleaned_data["error_lines"],
                    actor=request.user,
                    at=timezone.now(),
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                self.message_user(request, gettext("The bureau's answer is recorded."))
                return HttpResponseRedirect(reverse("admin:bureau_bureausubmission_change", args=[obj.pk]))
        return _form_page(
            self,
            request,
            form=form,
            title=gettext("Bureau's answer to %s") % obj,
            submit_label=gettext("Record"),
        )

    @admin.action(description=_("Send the selected generated files to the bureau"), permissions=["send"])
    def send_files(self, request, queryset):
        if not request.user.has_perm("bureau.change_bureausubmission"):
            raise PermissionDenied
        sent = 0
        for submission in queryset.filter(status=BureauSubmission.Status.GENERATED):
            try:
                services.send_submission(submission=submission, actor=request.user, at=timezone.now())
            except TransportError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                continue
            sent += 1
        self.message_user(request, gettext("%d file(s) sent.") % sent)

    def has_send_permission(self, request) -> bool:
        """Who may offer the "send" action (Django's action permissions)."""
        return request.user.has_perm("bureau.change_bureausubmission")
