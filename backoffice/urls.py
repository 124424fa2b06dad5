"""Root URLs: the admin, the REST API under /api/v1/, and its schema.

The audit screens sit under /admin/audit/ and come before the admin site,
whose catch-all pattern would otherwise take them.
"""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

from backoffice.views import audit as audit_views
from backoffice.views.dashboard import dashboard_urls

urlpatterns = [
    path("admin/audit/", audit_views.audit_trail_view, name="audit-trail"),
    path("admin/audit/csv/", audit_views.audit_trail_csv_view, name="audit-trail-csv"),
    path(
        "admin/audit/<slug:app_label>/<slug:model_name>/<int:object_id>/",
        audit_views.audit_object_view,
        name="audit-object",
    ),
    path("admin/dashboard/", include(dashboard_urls())),
    path("hooks/", include("cases.urls")),
    path("legal/", include("legal.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/auth/token/", obtain_auth_token, name="api-token"),
    path("api/v1/", include("backoffice.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("i18n/", include("django.conf.urls.i18n")),
]
