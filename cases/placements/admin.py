"""Screens for placement layouts and placement files. Thin: every write is a
service call (``cases.placements.services``); rows come from ``backoffice.access``.

- Placement layouts: a creditor's column layout (administrators edit it),
  with a sample file generated from it (``<id>/sample/``).
- Placement files: the upload screen (add view: file, creditor, mode, dry
  run), each file's status, progress, counts and row report (the first lines
  on the page, all of them as CSV at ``<id>/report/``).
"""

import io

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from backoffice import csvexport
from backoffice.access import creditors_for, may_upload_placements, placement_files_for, placement_layouts_for
from backoffice.admin import EstimatedCountPaginator
from backoffice.filereaders import upload_on_disk
from backoffice.models import AccessRecord
from backoffice.services import record_download
from cases.placements.models import FIELDS, PlacementFile, PlacementLayout
from cases.placements.rows import sample_rows
from cases.placements.selectors import report_csv, report_filename, report_lines
from cases.placements.services import submit_placement_file

# The file's page shows this many report lines; the CSV has them all.
REPORT_ON_PAGE = 200


@admin.register(PlacementLayout)
class PlacementLayoutAdmin(SimpleHistoryAdmin):
    list_display = ("creditor", "date_format", "decimal_separator", "updated_at", "sample_link")
    list_select_related = ("creditor",)
    readonly_fields = ("sample_link", "field_guide")
    fieldsets = (
        (None, {"fields": ("creditor", "sample_link", "notes")}),
        (
            _("Formats"),
            {"fields": ("date_format", "decimal_separator", "thousands_separator", "schedule_separator")},
        ),
        (
            _("Columns: the creditor's header for each of our fields (empty: not sent)"),
            {"fields": ("field_guide", *(f"col_{name}" for name in FIELDS))},
        ),
    )

    def get_queryset(self, request):
        return placement_layouts_for(request.user).select_related("creditor")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "creditor":
            kwargs["queryset"] = creditors_for(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_urls(self):
        sample = path(
            "<path:object_id>/sample/",
            self.admin_site.admin_view(self.sample_view),
            name="placements_placementlayout_sample",
        )
        return [sample, *super().get_urls()]

    @admin.display(description=_("sample file"))
    def sample_link(self, obj):
        if obj is None or obj.pk is None:
            return _("Save the layout to download a sample file.")
        url = reverse("admin:placements_placementlayout_sample", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download a sample CSV in this layout"))

    @admin.display(description=_("our fields"))
    def field_guide(self, obj):
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", "<li><code>{}</code>: {}</li>", ((k, v) for k, v in FIELDS.items())),
        )

    def sample_view(self, request, object_id):
        """A CSV with this layout's headers and two example rows.

        No access record: the rows are invented examples
        (``cases.placements.rows.sample_rows``), not anybody's data."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        layout = self.get_object(request, object_id)
        if layout is None:
            raise Http404
        product = layout.creditor.products.order_by("id").first()
        header, rows = sample_rows(layout, product.name if product else "Instalment loan")
        buffer = io.StringIO()
        writer = csvexport.writer(buffer)
        writer.writerow(header)
        writer.writerows(rows)
        response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
        name = f"placement-sample-{layout.creditor.short_code}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class UploadForm(forms.Form):
    creditor = forms.ModelChoiceField(queryset=None, label=_("creditor"))
    file = forms.FileField(label=_("file (CSV in UTF-8 or GBK, or XLSX)"))
    mode = forms.ChoiceField(
        label=_("mode"),
        choices=PlacementFile.Mode.choices,
        initial=PlacementFile.Mode.ALL_OR_NOTHING,
        help_text=_("All or nothing: one rejected row and no row is loaded. Or load only the valid rows."),
    )
    dry_run = forms.BooleanField(
        label=_("dry run"), required=False, help_text=_("Validate and report; load nothing.")
    )

    def __init__(self, *args, creditors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["creditor"].queryset = creditors


@admin.register(PlacementFile)
class PlacementFileAdmin(SimpleHistoryAdmin):
    list_display = (
        "id",
        "original_name",
        "creditor",
        "status",
        "progress_display",
        "rows",
        "loaded",
        "rejected",
        "duplicates",
        "adjusted",
        "mode",
        "dry_run",
        "uploaded_by",
        "created_at",
    )
    list_filter = ("status", "mode", "dry_run", "creditor")
    list_select_related = ("creditor", "uploaded_by")
    search_fields = ("original_name", "sha256")
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("creditor", "original_name", "file", "size", "kind", "encoding", "sha256")}),
        (
            _("Import"),
            {"fields": ("mode", "dry_run", "business_date", "status", "progress_display", "error")},
        ),
        (_("Counts"), {"fields": ("rows", "loaded", "rejected", "duplicates", "adjusted")}),
        (_("Who and when"), {"fields": ("uploaded_by", "created_at", "started_at", "finished_at")}),
        (_("Report"), {"fields": ("report_link", "report_preview")}),
    )
    readonly_fields = ("progress_display", "report_link", "report_preview", "created_at")

    def get_queryset(self, request):
        return placement_files_for(request.user)

    def has_add_permission(self, request):
        return may_upload_placements(request.user)

    def has_change_permission(self, request, obj=None):
        return False  # a file's story is written by the import, never edited

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        placement_file = self.get_object(request, object_id)
        running = placement_file is not None and placement_file.status not in PlacementFile.FINISHED
        extra_context = {**(extra_context or {}), "import_in_progress": running}
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        report = path(
            "<path:object_id>/report/",
            self.admin_site.admin_view(self.report_view),
            name="placements_placementfile_report",
        )
        return [report, *super().get_urls()]

    @admin.display(description=_("progress"))
    def progress_display(self, obj):
        progress = obj.progress
        total = progress["total"]
        if total is None:
            return obj.get_status_display()
        return f"{progress['processed']:,} / {total:,} ({progress['percent']}%)"

    @admin.display(description=_("report (CSV)"))
    def report_link(self, obj):
        url = reverse("admin:placements_placementfile_report", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download the whole report as CSV"))

    @admin.display(description=_("report"))
    def report_preview(self, obj):
        lines = list(report_lines(obj)[:REPORT_ON_PAGE])
        if not lines:
            return _("No findings.")
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (line.line, line.column, line.account_number, line.get_outcome_display(), line.reason)
                for line in lines
            ),
        )
        head = format_html(
            "<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            _("line"),
            _("column"),
            _("account"),
            _("outcome"),
            _("reason"),
        )
        return format_html("<table>{}{}</table>", head, body)

    def report_view(self, request, object_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        placement_file = self.get_object(request, object_id)
        if placement_file is None:
            raise Http404
        # Account numbers and the file's own values in the reasons: recorded.
        record_download(
            user=request.user,
            action=AccessRecord.Action.EXPORT_CSV,
            obj=placement_file,
            file_name=report_filename(placement_file),
            rows=report_lines(placement_file).count(),
        )
        response = StreamingHttpResponse(report_csv(placement_file), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{report_filename(placement_file)}"'
        return response

    def add_view(self, request, form_url="", extra_context=None):
        """Upload a file: ``submit_placement_file`` checks and stores it and a
        Celery task imports it (never this request); the file's page shows
        its progress and outcome."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        creditors = creditors_for(request.user)
        if request.method == "POST":
            form = UploadForm(request.POST, request.FILES, creditors=creditors)
            if form.is_valid():
                data = form.cleaned_data
                upload = data["file"]
                with upload_on_disk(upload) as path_on_disk:
                    try:
                        submission = submit_placement_file(
                            creditor=data["creditor"],
                            path=path_on_disk,
                            original_name=upload.name,
                            mode=data["mode"],
                            dry_run=data["dry_run"],
                            actor=request.user,
                            business_date=timezone.localdate(),
                        )
                    except ValidationError as exc:
                        form.add_error("file" if not hasattr(exc, "error_dict") else None, exc.messages)
                    else:
                        placement_file = submission.placement_file
                        placement_file.refresh_from_db()  # an eager worker may have finished it
                        if submission.created:
                            self.log_addition(request, placement_file, [{"added": {}}])
                            self.message_user(
                                request,
                                _("%(name)s: %(status)s.")
                                % {
                                    "name": placement_file.original_name,
                                    "status": placement_file.get_status_display(),
                                },
                                messages.SUCCESS
                                if placement_file.status != PlacementFile.Status.REJECTED
                                else messages.WARNING,
                            )
                        else:
                            self.message_user(
                                request,
                                _(
                                    "This file was already imported for this creditor; "
                                    "nothing was loaded again."
                                ),
                                messages.WARNING,
                            )
                        return HttpResponseRedirect(
                            reverse("admin:placements_placementfile_change", args=[placement_file.pk])
                        )
        else:
            form = UploadForm(creditors=creditors)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Upload a placement file"),
            "form": form,
            "media": self.media + form.media,
            "submit_label": _("Upload and import"),
        }
        return TemplateResponse(request, "admin/placements/placementfile/upload.html", context)
