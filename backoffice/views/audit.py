"""The supervisors' audit trail: history across every model, one record's
story, and a CSV export for auditors (DESIGN.md, Audit).

Screens live inside the admin site (``admin.site.admin_view`` for login and
staff checks, ``each_context`` for the look) under ``/admin/audit/``. Reads
go through ``backoffice.selectors.history_rows``; who may open them is
``can_view_audit``. Pages are keyset-paginated ("Newer"/"Older"), never
counted, because the historical tables hold millions of rows.
"""

import json
import logging

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backoffice.audit import SYSTEM_USERNAME
from backoffice.csvexport import streamed
from backoffice.models import AccessRecord
from backoffice.roles import ADMINISTRATOR, COMPLIANCE, SUPERVISOR
from backoffice.selectors import (
    all_tracked_field_names,
    audited_model,
    audited_models,
    decode_cursor,
    history_rows,
    tracked_field_names,
)
from backoffice.services import record_access

export_log = logging.getLogger("ledgerline.audit.export")

AUDIT_ROLES = (SUPERVISOR, COMPLIANCE, ADMINISTRATOR)
PAGE_SIZE = 50
OBJECT_PAGE_SIZE = 200
CSV_MAX_ROWS = 100_000
CSV_BATCH = 1_000


def can_view_audit(user) -> bool:
    """Superusers and members of Supervisor, Compliance or Administrator."""
    if not user or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return user.groups.filter(name__in=AUDIT_ROLES).exists()


def access_records_for(user):
    """Every access record for those who may read the audit, none otherwise."""
    return AccessRecord.objects.all() if can_view_audit(user) else AccessRecord.objects.none()


def supervision_links(request) -> list[tuple[str, str]]:
    """Entries of the admin index's "Supervision" box for this user."""
    if not can_view_audit(request.user):
        return []
    return [(_("Audit trail"), reverse("audit-trail"))]


# --------------------------------------------------------------------------
# Filters


class AuditFilterForm(forms.Form):
    model = forms.ChoiceField(label=gettext_lazy("Model"), required=False)
    object_id = forms.IntegerField(label=gettext_lazy("Object ID"), required=False, min_value=1)
    user = forms.CharField(
        label=gettext_lazy("User"),
        required=False,
        max_length=150,
        widget=forms.TextInput(attrs={"list": "audit-users", "autocomplete": "off"}),
    )
    date_from = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(label=gettext_lazy("Reason contains"), required=False, max_length=200)
    field = forms.ChoiceField(label=gettext_lazy("Changed field"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [("", _("All models"))] + sorted(
            (
                (m._meta.label_lower, f"{capfirst(m._meta.verbose_name)} ({m._meta.app_label})")
                for m in audited_models()
            ),
            key=lambda choice: str(choice[1]),
        )
        self.fields["field"].choices = [("", _("Any field"))] + [(n, n) for n in all_tracked_field_names()]

    def clean_user(self):
        username = self.cleaned_data["user"].strip()
        if not username:
            return None
        user = get_user_model()._default_manager.filter(username=username).first()
        if user is None:
            raise forms.ValidationError(_("No user is called %(name)s.") % {"name": username})
        return user

    def clean(self):
        data = super().clean()
        model = audited_model(data.get("model") or "")
        data["model_class"] = model
        date_from, date_to = data.get("date_from"), data.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", _("The end date is before the start date."))
        field = data.get("field")
        if model is not None and field and field not in tracked_field_names(model):
            self.add_error(
                "field",
                _("%(model)s has no tracked field %(field)s.")
                % {"model": capfirst(model._meta.verbose_name), "field": field},
            )
        return data

    def selector_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "models": [data["model_class"]] if data.get("model_class") else None,
            "object_id": data.get("object_id"),
            "history_user": data.get("user"),
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
            "reason_contains": data.get("reason") or None,
            "field": data.get("field") or None,
        }


def _user_choices() -> list[str]:
    users = get_user_model()._default_manager.filter(Q(is_staff=True) | Q(username=SYSTEM_USERNAME))
    return list(users.order_by("username").values_list("username", flat=True)[:1000])


# --------------------------------------------------------------------------
# Helpers shared by the screens


def _require_audit(request):
    if not can_view_audit(request.user):
        raise PermissionDenied


def _attach_links(rows):
    for row in rows:
        row.audit_url = reverse("audit-object", args=[row.app_label, row.model_name, row.object_id])
        row.admin_url = None
        if row.history_type != "-" and admin.site.is_registered(row.model):
            try:
                row.admin_url = reverse(
                    f"admin:{row.app_label}_{row.model_name}_change", args=[row.object_id]
                )
            except NoReverseMatch:  # pragma: no cover - admin without a change view
                pass
    return rows


def _pager(request, page, *, oldest_first: bool) -> dict:
    """Links to the neighbouring pages; no counts.

    ``forward`` follows the display order (older rows on the trail, later
    rows on one record's page), ``back`` goes the other way.
    """
    params = request.GET.copy()
    params.pop("before", None)
    params.pop("after", None)
    forward_key, back_key = ("after", "before") if oldest_first else ("before", "after")
    came_forward = forward_key in request.GET
    came_back = back_key in request.GET
    rows = page.rows
    links = {"forward": None, "back": None, "first": None}
    if came_forward or came_back:
        links["first"] = "?" + urlencode(params, doseq=True) if params else "?"
    if not rows:
        return links
    more_forward = page.has_more if not came_back else True
    more_back = page.has_more if came_back else came_forward
    if more_forward:
        links["forward"] = "?" + urlencode({**_flat(params), forward_key: rows[-1].cursor})
    if more_back:
        links["back"] = "?" + urlencode({**_flat(params), back_key: rows[0].cursor})
    return links


def _flat(params) -> dict:
    return {key: params.get(key) for key in params}


def _cursor_kwargs(request) -> dict:
    return {
        "before": decode_cursor(request.GET.get("before")),
        "after": decode_cursor(request.GET.get("after")),
    }


# --------------------------------------------------------------------------
# Screens


def audit_trail(request):
    """History across every audited model, newest first, with filters."""
    _require_audit(request)
    form = AuditFilterForm(request.GET or None)
    page = None
    if form.is_bound and form.is_valid():
        kwargs = form.selector_kwargs()
    elif not form.is_bound:
        kwargs = {}
    else:
        kwargs = None
    if kwargs is not None:
        page = history_rows(user=request.user, limit=PAGE_SIZE, **kwargs, **_cursor_kwargs(request))
        _attach_links(page.rows)
    csv_query = {k: v for k, v in _flat(request.GET).items() if k not in ("before", "after")}
    context = {
        **admin.site.each_context(request),
        "title": _("Audit trail"),
        "form": form,
        "page": page,
        "rows": page.rows if page else [],
        "pager": _pager(request, page, oldest_first=False) if page else {},
        "user_choices": _user_choices(),
        "csv_url": reverse("audit-trail-csv") + ("?" + urlencode(csv_query) if csv_query else ""),
        "csv_max_rows": CSV_MAX_ROWS,
        "show_model": True,
    }
    return render(request, "admin/audit/trail.html", context)


def audit_object(request, app_label: str, model_name: str, object_id: int):
    """One record's whole story, oldest first: who changed it, when, from what to what."""
    _require_audit(request)
    model = audited_model(f"{app_label}.{model_name}")
    if model is None:
        raise Http404(_("No audited model %(label)s.") % {"label": f"{app_label}.{model_name}"})
    page = history_rows(
        user=request.user,
        models=[model],
        object_id=object_id,
        limit=OBJECT_PAGE_SIZE,
        oldest_first=True,
        **_cursor_kwargs(request),
    )
    _attach_links(page.rows)
    latest = page.rows[-1] if page.rows else None
    admin_url = None
    if admin.site.is_registered(model):
        admin_url = reverse(f"admin:{app_label}_{model._meta.model_name}_change", args=[object_id])
    context = {
        **admin.site.each_context(request),
        "title": _("History of %(model)s #%(id)s") % {"model": model._meta.verbose_name, "id": object_id},
        "model_verbose_name": capfirst(model._meta.verbose_name),
        "object_id": object_id,
        "object_repr": latest.object_repr if latest else "",
        "admin_url": admin_url,
        "trail_url": reverse("audit-trail")
        + "?"
        + urlencode({"model": model._meta.label_lower, "object_id": object_id}),
        "page": page,
        "rows": page.rows,
        "pager": _pager(request, page, oldest_first=True),
        "show_model": False,
    }
    return render(request, "admin/audit/object.html", context)


def _csv_lines(user, kwargs):
    """The trail as CSV lines; every cell formula-safe (``backoffice.csvexport``)."""
    yield from streamed([_csv_header()])
    written = 0
    before = None
    while written < CSV_MAX_ROWS:
        limit = min(CSV_BATCH, CSV_MAX_ROWS - written)
        page = history_rows(user=user, limit=limit, before=before, **kwargs)
        yield from streamed(_csv_row(row) for row in page.rows)
        written += len(page.rows)
        if not page.has_more or not page.rows:
            break
        before = decode_cursor(page.rows[-1].cursor)


def _csv_header() -> list[str]:
    return [
        _("When"),
        _("User"),
        _("Model"),
        _("Object ID"),
        _("Object"),
        _("Action"),
        _("Reason"),
        _("Changes"),
    ]


def _csv_row(row) -> list:
    changes = "; ".join(f"{c.field}: {c.old} → {c.new}" for c in row.changes)
    return [
        timezone.localtime(row.history_date).isoformat(),
        row.user_display,
        row.model_label,
        row.object_id,
        row.object_repr,
        row.action,
        row.reason,
        changes,
    ]


def audit_trail_csv(request):
    """The filtered trail as CSV, newest first, at most ``CSV_MAX_ROWS`` rows."""
    _require_audit(request)
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Invalid filters: %(errors)s") % {"errors": form.errors.as_text()})
    kwargs = form.selector_kwargs()
    filters = {k: str(v) for k, v in request.GET.items()}
    export_log.info("audit trail exported", extra={"user_id": request.user.pk, "filters": filters})
    record_access(
        user=request.user,
        action=AccessRecord.Action.EXPORT_AUDIT_CSV,
        detail=json.dumps(filters, sort_keys=True, ensure_ascii=False),
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(_csv_lines(request.user, kwargs), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-trail-{stamp}.csv"'
    return response


audit_trail_view = admin.site.admin_view(audit_trail)
audit_trail_csv_view = admin.site.admin_view(audit_trail_csv)
audit_object_view = admin.site.admin_view(audit_object)
