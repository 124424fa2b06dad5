"""Screens for statement sources, statement files, their lines and the
suspense queue. Thin: every write is a service call
(``cases.statements.services``); rows come from ``backoffice.access``.

- Statement sources: the column layout of each bank / platform, with a
  sample file to download (administrators edit them).
- Statement files: the upload screen (add view) and each file's
  reconciliation (imported = posted + suspense + rejected), with the line
  report as CSV.
- Statement lines: every line of every file, read-only.
- Suspense queue: lines in suspense; "Match to a debt" (per line) and
  "Return selected lines" (action) for supervisors and administrators.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers, widgets
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from backoffice import csvexport
from backoffice.access import (
    debts_for,
    may_import_statements,
    may_resolve_suspense,
    statement_files_for,
    statement_lines_for,
    statement_sources_for,
    suspense_lines_for,
)
from backoffice.admin import EstimatedCountPaginator
from backoffice.filereaders import upload_on_disk
from backoffice.models import AccessRecord
from backoffice.services import record_download
from cases.models import Debt
from cases.statements.models import StatementFile, StatementLine, StatementSource, SuspenseLine
from cases.statements.selectors import reconciliation
from cases.statements.services import match_line, return_line, submit_statement_file
from customers.models import mask_national_id


def _service_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _form_page(model_admin, request, *, title, form, submit_label, **extra):
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": title,
        "form": form,
        "media": model_admin.media + form.media,
        "submit_label": submit_label,
        **extra,
    }
    return TemplateResponse(request, "admin/statements/form.html", context)


# --- sources ---------------------------------------------------------------------


def sample_csv(source: StatementSource) -> str:
    """A two-line file in the source's layout, for the bank's IT or a test."""
    example = {
        "transaction_id": ["TX20260301001", "TX20260301002"],
        "received_on": ["2026-03-01", "2026-03-01"],
        "amount": ["1413.50", "200.00"],
        "currency": [source.default_currency or "CNY"] * 2,
        "account_number": ["ACC0000001", ""],
        "payment_reference": ["ACC0000001", "repayment ACC0000002"],
        "national_id": ["110101199001010001", ""],
        "payer_name": ["张三", "李四"],
        "channel": [source.channel] * 2,
    }
    try:
        dates = [timezone.datetime(2026, 3, 1).strftime(source.date_format)] * 2
    except ValueError:
        dates = example["received_on"]
    example["received_on"] = dates
    columns = source.columns()
    out = _Buffer()
    writer = csvexport.writer(out)
    writer.writerow(columns.values())
    for n in range(2):
        writer.writerow(example[name][n] for name in columns)
    return out.text


class _Buffer:
    def __init__(self):
        self.parts = []

    def write(self, text):
        self.parts.append(text)

    @property
    def text(self) -> str:
        return "".join(self.parts)


@admin.register(StatementSource)
class StatementSourceAdmin(SimpleHistoryAdmin):
    list_display = ("name", "code", "kind", "creditor", "default_currency", "date_format", "active")
    list_filter = ("kind", "active")
    search_fields = ("name", "code")
    list_select_related = ("creditor",)
    readonly_fields = ("sample_link",)
    fieldsets = (
        (None, {"fields": ("name", "code", "kind", "creditor", "active")}),
        (_("Reading the file"), {"fields": ("date_format", "default_currency", "channel", "sample_link")}),
        (
            _("Columns (header text in the file; blank: not in the file)"),
            {
                "fields": (
                    "transaction_id_column",
                    "date_column",
                    "amount_column",
                    "currency_column",
                    "account_number_column",
                    "reference_column",
                    "national_id_column",
                    "payer_name_column",
                    "channel_column",
                )
            },
        ),
    )

    def get_queryset(self, request):
        return statement_sources_for(request.user).select_related("creditor")

    def get_urls(self):
        urls = [
            path(
                "<path:object_id>/sample/",
                self.admin_site.admin_view(self.sample_view),
                name="statements_statementsource_sample",
            )
        ]
        return urls + super().get_urls()

    @admin.display(description=_("sample file"))
    def sample_link(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        url = reverse("admin:statements_statementsource_sample", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download a sample file in this layout"))

    def sample_view(self, request, object_id):
        """The source's layout with two invented lines (``sample_csv``): no
        access record, it holds nobody's data."""
        source = self.get_object(request, object_id)  # None for a malformed id too, never a 500
        if source is None:
            raise Http404
        response = HttpResponse(sample_csv(source), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="statement-sample-{source.code}.csv"'
        return response


# --- files -----------------------------------------------------------------------


class UploadForm(forms.Form):
    source = forms.ModelChoiceField(queryset=StatementSource.objects.none(), label=_("source"))
    file = forms.FileField(label=_("statement file"), help_text=_("CSV (UTF-8 or GBK) or XLSX."))
    business_date = forms.DateField(
        label=_("business date"),
        widget=widgets.AdminDateWidget,
        help_text=_("Lines dated after it are refused."),
    )

    def __init__(self, *args, sources, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = sources


@admin.register(StatementFile)
class StatementFileAdmin(SimpleHistoryAdmin):
    list_display = (
        "id",
        "source",
        "original_name",
        "business_date",
        "status",
        "line_count",
        "posted_count",
        "suspense_count",
        "rejected_count",
        "total_amount",
        "imported_by",
        "imported_at",
    )
    list_filter = ("status", "source", "business_date")
    search_fields = ("original_name", "sha256")
    list_select_related = ("source", "imported_by")
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    fields = (
        "source",
        "original_name",
        "file",
        "sha256",
        "encoding",
        "business_date",
        "status",
        "imported_by",
        "imported_at",
        "started_at",
        "error",
        "reconciliation_table",
        "links",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return statement_files_for(request.user)

    def has_add_permission(self, request):
        return may_import_statements(request.user)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        urls = [
            path(
                "<path:object_id>/report/",
                self.admin_site.admin_view(self.report_view),
                name="statements_statementfile_report",
            )
        ]
        return urls + super().get_urls()

    @admin.display(description=_("reconciliation"))
    def reconciliation_table(self, obj):
        rec = reconciliation(obj)
        rows = [(_("imported"), rec.imported.count, rec.imported.amount)]
        rows += [(_(name), figure.count, figure.amount) for name, figure in rec.at_import.items()]
        verdict = _("reconciles") if rec.balanced_at_import else _("DOES NOT RECONCILE")
        now = ", ".join(
            f"{StatementLine.Status(status).label}: {figure.count} / {figure.amount}"
            for status, figure in rec.now.items()
        )
        return format_html(
            "<table><thead><tr><th></th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>"
            "<p>{}: <strong>{}</strong>. {}: {}{}</p>",
            _("lines"),
            _("amount"),
            format_html_join(
                "", '<tr><td>{}</td><td class="nowrap">{}</td><td class="nowrap">{}</td></tr>', rows
            ),
            _("imported = posted + suspense + rejected"),
            verdict,
            _("Now"),
            now,
            format_html(" ({} {})", obj.already_posted_count, _("already imported"))
            if obj.already_posted_count
            else "",
        )

    @admin.display(description=_("lines"))
    def links(self, obj):
        report = reverse("admin:statements_statementfile_report", args=[obj.pk])
        queue = reverse("admin:statements_suspenseline_changelist") + f"?file__id__exact={obj.pk}"
        lines = reverse("admin:statements_statementline_changelist") + f"?file__id__exact={obj.pk}"
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a> · <a href="{}">{}</a>',
            lines,
            _("all lines"),
            queue,
            _("its suspense lines"),
            report,
            _("line report (CSV)"),
        )

    def report_view(self, request, object_id):
        statement = self.get_object(request, object_id)  # None for a malformed id too, never a 500
        if statement is None:
            raise Http404
        out = _Buffer()
        writer = csvexport.writer(out)
        writer.writerow(["line", "transaction_id", "amount", "status", "column", "reason", "debt", "payment"])
        rows = statement.lines.select_related("debt", "payment").order_by("line_number")
        written = 0
        for line in rows.iterator(chunk_size=2000):
            written += 1
            writer.writerow(
                [
                    line.line_number,
                    line.transaction_id,
                    line.amount if line.amount is not None else "",
                    line.status,
                    line.column,
                    line.reason,
                    line.debt.account_number if line.debt else "",
                    line.payment.reference if line.payment else "",
                ]
            )
        name = f"statement-{statement.pk}-report.csv"
        # Payers' transactions, account numbers and payment references: recorded.
        record_download(
            user=request.user,
            action=AccessRecord.Action.EXPORT_CSV,
            obj=statement,
            file_name=name,
            rows=written,
        )
        response = HttpResponse(out.text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def add_view(self, request, form_url="", extra_context=None):
        """Upload a statement: ``submit_statement_file`` checks and stores it
        and a Celery task imports it (never this request); the file's page
        shows its status and, once imported, its reconciliation."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        sources = statement_sources_for(request.user).filter(active=True)
        if request.method != "POST":
            form = UploadForm(initial={"business_date": timezone.localdate()}, sources=sources)
            return _form_page(
                self, request, title=_("Import a statement file"), form=form, submit_label=_("Import")
            )
        form = UploadForm(request.POST, request.FILES, sources=sources)
        if form.is_valid():
            data = form.cleaned_data
            upload = data["file"]
            with upload_on_disk(upload) as spooled:
                try:
                    result = submit_statement_file(
                        path=spooled,
                        source=data["source"],
                        actor=request.user,
                        business_date=data["business_date"],
                        original_name=upload.name,
                    )
                except ValidationError as exc:
                    _service_errors(form, exc)
                else:
                    statement = result.file
                    statement.refresh_from_db()  # an eager worker may have finished it
                    if result.created:
                        self.log_addition(request, statement, [{"added": {}}])
                        self._say_outcome(request, statement)
                    else:
                        self.message_user(
                            request,
                            _("This file was imported before (file #%s); nothing was imported again.")
                            % statement.pk,
                            messages.WARNING,
                        )
                    return HttpResponseRedirect(
                        reverse("admin:statements_statementfile_change", args=[statement.pk])
                    )
        return _form_page(
            self, request, title=_("Import a statement file"), form=form, submit_label=_("Import")
        )

    def _say_outcome(self, request, statement: StatementFile) -> None:
        if statement.status in StatementFile.PENDING:
            self.message_user(
                request,
                _("The file is being imported by a worker; reload this page to see its reconciliation."),
                messages.INFO,
            )
        elif statement.status == StatementFile.Status.FAILED:
            self.message_user(
                request, _("The import failed: %(error)s") % {"error": statement.error}, messages.ERROR
            )
        else:
            self.message_user(
                request,
                _(
                    "Imported %(lines)s lines: %(posted)s posted, %(suspense)s to suspense, "
                    "%(rejected)s rejected."
                )
                % {
                    "lines": statement.line_count,
                    "posted": statement.posted_count,
                    "suspense": statement.suspense_count,
                    "rejected": statement.rejected_count,
                },
                messages.SUCCESS,
            )


# --- lines and the suspense queue ---------------------------------------------------


class StatementLineAdmin(SimpleHistoryAdmin):
    list_display = (
        "file",
        "line_number",
        "transaction_id",
        "received_on",
        "amount",
        "currency",
        "status",
        "reason",
        "debt",
        "payer_name",
    )
    list_filter = ("status", "source", "received_on", "file")
    # A payer's national ID matches only as a whole value ("="): a partial
    # match would let the mask's last digits rebuild the rest (issue #15).
    search_fields = ("transaction_id", "payer_name", "=national_id", "payment_reference", "account_number")
    list_select_related = ("file__source", "source", "debt__creditor")
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    # National IDs are shown masked (a full ID is searchable, never listed):
    # revealing one is a logged act of the customer screens.
    exclude = ("national_id", "raw")

    def lookup_allowed(self, lookup, value, request):
        """No ``?national_id__…=`` filter from the query string (400)."""
        if lookup == "national_id" or lookup.startswith("national_id__"):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_queryset(self, request):
        return statement_lines_for(request.user)

    def get_readonly_fields(self, request, obj=None):
        hidden = {"national_id", "raw"}
        names = [f.name for f in self.model._meta.fields if f.name not in hidden]
        return [*names, "national_id_shown", "raw_shown"]

    @admin.display(description=_("national ID"))
    def national_id_shown(self, obj):
        return mask_national_id(obj.national_id)

    @admin.display(description=_("line as read"))
    def raw_shown(self, obj):
        column = obj.source.national_id_column
        cells = [
            (name, mask_national_id(value) if name == column else value)
            for name, value in (obj.raw or {}).items()
        ]
        return format_html_join(mark_safe("<br>"), "{}: {}", cells)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.register(StatementLine, StatementLineAdmin)


class MatchForm(forms.Form):
    debt = forms.ModelChoiceField(queryset=Debt.objects.none(), label=_("debt"))
    reason = forms.CharField(
        label=_("reason"), max_length=255, help_text=_("Why this debt: recorded with the line.")
    )
    business_date = forms.DateField(label=_("business date"), widget=widgets.AdminDateWidget)

    def __init__(self, *args, debts, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["debt"].queryset = debts
        self.fields["debt"].widget = widgets.ForeignKeyRawIdWidget(
            StatementLine._meta.get_field("debt").remote_field, admin_site
        )


class ReturnForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=255)


@admin.register(SuspenseLine)
class SuspenseLineAdmin(StatementLineAdmin):
    list_display = (
        "transaction_id",
        "received_on",
        "amount",
        "currency",
        "payer_name",
        "national_id_shown",
        "account_number",
        "payment_reference",
        "reason",
        "file",
        "match_link",
    )
    list_filter = ("source", "received_on", "currency", "file")
    actions = ["return_selected"]

    def get_queryset(self, request):
        return suspense_lines_for(request.user)

    def has_resolve_permission(self, request):
        return may_resolve_suspense(request.user)

    def history_view(self, request, object_id, extra_context=None):
        """A proxy has no history of its own: the line's history is the
        statement line's page."""
        if not self.get_queryset(request).filter(pk=object_id).exists():
            raise Http404
        return HttpResponseRedirect(reverse("admin:statements_statementline_history", args=[object_id]))

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if not self.get_queryset(request).filter(pk=object_id).exists():
            raise Http404
        url = reverse("admin:statements_statementline_simple_history", args=[object_id, version_id])
        return HttpResponseRedirect(url)

    def get_urls(self):
        urls = [
            path(
                "<path:object_id>/match/",
                self.admin_site.admin_view(self.match_view),
                name="statements_suspenseline_match",
            )
        ]
        return urls + super().get_urls()

    @admin.display(description=_("match"))
    def match_link(self, obj):
        url = reverse("admin:statements_suspenseline_match", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Match to a debt"))

    def match_view(self, request, object_id):
        line = suspense_lines_for(request.user).filter(pk=object_id).select_related("source").first()
        if line is None:
            raise Http404
        if not may_resolve_suspense(request.user):
            raise PermissionDenied
        debts = debts_for(request.user).filter(status__in=Debt.ACTIVE_STATUSES)
        if request.method == "POST":
            form = MatchForm(request.POST, debts=debts, admin_site=self.admin_site)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    match_line(
                        line=line,
                        debt=data["debt"],
                        actor=request.user,
                        reason=data["reason"],
                        business_date=data["business_date"],
                    )
                except ValidationError as exc:
                    _service_errors(form, exc)
                else:
                    self.message_user(
                        request,
                        _("Line %(line)s matched to %(debt)s and posted.")
                        % {"line": line, "debt": data["debt"]},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(reverse("admin:statements_suspenseline_changelist"))
        else:
            form = MatchForm(
                initial={"business_date": timezone.localdate()}, debts=debts, admin_site=self.admin_site
            )
        return _form_page(
            self,
            request,
            title=_("Match a suspense line to a debt"),
            form=form,
            submit_label=_("Match and post"),
            line=line,
        )

    @admin.action(description=_("Return selected lines (take them out of suspense)"), permissions=["resolve"])
    def return_selected(self, request, queryset):
        if "apply" in request.POST:
            form = ReturnForm(request.POST)
            if form.is_valid():
                done, failed = 0, []
                for line in queryset.order_by("id"):
                    try:
                        return_line(line=line, actor=request.user, reason=form.cleaned_data["reason"])
                        done += 1
                    except ValidationError as exc:
                        failed.append(f"{line}: {' '.join(exc.messages)}")
                if done:
                    self.message_user(request, _("%d line(s) returned.") % done, messages.SUCCESS)
                for text in failed:
                    self.message_user(request, text, messages.ERROR)
                return None
        else:
            form = ReturnForm()
        return _form_page(
            self,
            request,
            title=_("Return suspense lines"),
            form=form,
            submit_label=_("Return lines"),
            selected=list(queryset),
            action="return_selected",
            action_checkbox_name=helpers.ACTION_CHECKBOX_NAME,
        )
