"""Admin site branding and the pieces every Ledgerline screen shares.

``EstimatedCountPaginator``: Django's changelist counts the rows on every
page view. On PostgreSQL an unfiltered list of a big table reads the
planner's estimate (``pg_class.reltuples``, ~0.1 ms) instead of
``COUNT(*)`` (~40 ms per million rows, STYLE.md); filtered lists, small
tables and other databases count exactly.
"""

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

admin.site.site_header = "Ledgerline"
admin.site.site_title = "Ledgerline"
admin.site.index_title = _("Back office")

_admin_index = admin.site.index


def _index_with_supervision(request, extra_context=None):
    """The admin index plus ``supervision_links`` for its "Supervision" box
    (``templates/admin/index.html``): the audit trail for those allowed."""
    from backoffice.audit_views import supervision_links
    from backoffice.dashboard_views import supervision_links as dashboard_links

    links = dashboard_links(request) + supervision_links(request)
    context = {"supervision_links": links, **(extra_context or {})}
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
