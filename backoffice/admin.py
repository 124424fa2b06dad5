"""Admin site branding and the pieces every Ledgerline screen shares.

``EstimatedCountPaginator``: Django's changelist counts the rows on every
page view. On PostgreSQL an unfiltered list of a big table reads the
planner's estimate (``pg_class.reltuples``, ~0.1 ms) instead of
``COUNT(*)`` (~40 ms per million rows, STYLE.md); filtered lists, small
tables and other databases count exactly.
"""

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.paginator import Paginator
from django.db import connections
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from backoffice.models import AccessRecord

admin.site.site_header = "Ledgerline"
# "View site" goes to the site root, which sends each role to its work page (issue #16).
admin.site.site_url = "/"
admin.site.site_title = "Ledgerline"
admin.site.index_title = _("Back office")

_admin_index = admin.site.index


def _index_with_supervision(request, extra_context=None):
    """The admin index plus ``supervision_links`` for its "Supervision" box
    (``templates/admin/index.html``): the audit trail for those allowed;
    and ``work_links`` for its "Your work" box: the work pages of the
    user's roles (issue #16, ``backoffice.views.landing``)."""
    from backoffice.views.audit import supervision_links
    from backoffice.views.dashboard import supervision_links as dashboard_links
    from backoffice.views.landing import work_links

    links = dashboard_links(request) + supervision_links(request)
    context = {
        "supervision_links": links,
        "work_links": [link for link in work_links(request.user) if link[1] != request.path],
        **(extra_context or {}),
    }
    return _admin_index(request, extra_context=context)


# ``AdminSite.get_urls`` wraps ``self.index`` when the URLs are first built,
# after every admin module has been imported, so this instance attribute wins.
admin.site.index = _index_with_supervision

# Below this many rows an exact count is cheap and nicer to read.
EXACT_COUNT_BELOW = 100_000


class EstimatedCountPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        if query is not None and not query.where and not query.is_sliced:
            estimate = _estimated_rows(self.object_list)
            if estimate is not None and estimate >= EXACT_COUNT_BELOW:
                return estimate
        return super().count


def _estimated_rows(queryset) -> int | None:
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
            [queryset.model._meta.db_table],
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None and row[0] >= 0 else None


class ReadOnlyInlineMixin:
    """An inline that shows rows and never adds, changes or deletes them.

    Subclasses list ``fields``; all of them are shown read-only.
    """

    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# -- Row access on every admin screen -------------------------------------------------------
#
# Each ModelAdmin's ``get_queryset`` comes from ``backoffice.access``. Two
# admin behaviours would step around it, so they are closed here once for
# every screen (ours and simple-history's):
#
# * a row outside the queryset answers 404, as the API does, instead of a
#   redirect with "doesn't exist" (DESIGN.md: a collector opening another
#   collector's case by URL gets a 404);
# * simple-history's history and old-version pages read the history table
#   directly; they now answer 404 unless the live row is in the queryset
#   (a deleted row's history stays readable through the audit trail, which
#   is for supervisors only).


def _row_not_visible(self, request, opts, object_id):
    raise Http404(_("No such %(name)s.") % {"name": opts.verbose_name})


def _visible_or_404(admin_obj, request, object_id) -> None:
    if not admin_obj.get_queryset(request).filter(pk=unquote(object_id)).exists():
        raise Http404(_("No such %(name)s.") % {"name": admin_obj.model._meta.verbose_name})


_history_view = SimpleHistoryAdmin.history_view
_history_form_view = SimpleHistoryAdmin.history_form_view


def _guarded_history_view(self, request, object_id, extra_context=None):
    _visible_or_404(self, request, object_id)
    return _history_view(self, request, object_id, extra_context=extra_context)


def _guarded_history_form_view(self, request, object_id, version_id, extra_context=None):
    _visible_or_404(self, request, object_id)
    return _history_form_view(self, request, object_id, version_id, extra_context=extra_context)


admin.ModelAdmin._get_obj_does_not_exist_redirect = _row_not_visible
SimpleHistoryAdmin.history_view = _guarded_history_view
SimpleHistoryAdmin.history_form_view = _guarded_history_form_view


# -- Access records -------------------------------------------------------------------------


@admin.register(AccessRecord)
class AccessRecordAdmin(admin.ModelAdmin):
    """Who looked at sensitive data, for Supervisor, Compliance and
    Administrator (``backoffice.views.audit.can_view_audit``); read-only:
    the rows are append-only."""

    list_display = ("at", "user", "action", "object_label", "app_label", "model_name", "object_id")
    list_filter = ("action", "app_label", "model_name")
    search_fields = ("user__username", "object_label", "object_id", "detail")
    list_select_related = ("user",)
    date_hierarchy = "at"
    readonly_fields = (
        "at",
        "user",
        "action",
        "object_label",
        "app_label",
        "model_name",
        "object_id",
        "detail",
    )
    fields = readonly_fields
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def get_queryset(self, request):
        from backoffice.views.audit import access_records_for

        return access_records_for(request.user).select_related("user")

    def _may_view(self, request) -> bool:
        from backoffice.views.audit import can_view_audit

        return can_view_audit(request.user)

    def has_module_permission(self, request):
        return self._may_view(request)

    def has_view_permission(self, request, obj=None):
        return self._may_view(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ServiceOnlyAdmin(SimpleHistoryAdmin):
    """Rows that change only through services: list, view and history."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def service_form_response(model_admin, request, queryset, *, form, action, title, submit_label, intro=""):
    """The intermediate page of an action that asks for input first."""
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": title,
        "intro": intro,
        "form": form,
        "media": model_admin.media + form.media,
        "objects": queryset,
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "select_across": request.POST.get("select_across", "0"),
        "submit_label": submit_label,
    }
    return TemplateResponse(request, "admin/ledgerline/action_form.html", context)
