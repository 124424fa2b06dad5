"""Root URLs: the admin, the REST API under /api/v1/, and its schema (staff only).

The audit screens sit under /admin/audit/ and come before the admin site,
whose catch-all pattern would otherwise take them.
"""

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from backoffice.api.auth import LogoutAllView, LogoutView, TokenLoginView
from backoffice.views import audit as audit_views
from backoffice.views.dashboard import dashboard_urls
from backoffice.views.landing import landing_view
from backoffice.views.second_factor import second_factor_urls

urlpatterns = [
    # The site root (and the admin's "View site"): each role's work page (issue #16).
    path("", landing_view, name="landing"),
    path("admin/audit/", audit_views.audit_trail_view, name="audit-trail"),
    path("admin/audit/csv/", audit_views.audit_trail_csv_view, name="audit-trail-csv"),
    path(
        "admin/audit/<slug:app_label>/<slug:model_name>/<int:object_id>/",
        audit_views.audit_object_view,
        name="audit-object",
    ),
    path("admin/dashboard/", include(dashboard_urls())),
    path("admin/second-factor/", include(second_factor_urls())),
    path("hooks/", include("cases.urls")),
    path("legal/", include("legal.urls")),
    path("admin/", admin.site.urls),
    # Expiring tokens (issue #14): sign in, revoke this token, revoke them all.
    path("api/v1/auth/token/", TokenLoginView.as_view(), name="api-token"),
    path("api/v1/auth/logout/", LogoutView.as_view(), name="api-logout"),
    path("api/v1/auth/logout-all/", LogoutAllView.as_view(), name="api-logout-all"),
    path("api/v1/", include("backoffice.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Staff only (SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"]); a browser that is not
    # signed in as staff is sent to the admin login instead of a bare 401.
    path(
        "api/docs/",
        staff_member_required(SpectacularSwaggerView.as_view(url_name="schema")),
        name="swagger-ui",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
]
