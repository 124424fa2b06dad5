"""The /api/v1/ routes: each app's ``api/urls.py`` contributes its viewsets."""

from django.urls import include, path

urlpatterns = [
    path("", include("customers.api.urls")),
    path("", include("cases.api.urls")),
    path("legal/", include("legal.api.urls")),
    path("", include("cases.bureau.api.urls")),
    path("", include("cases.bureau_inquiry.api.urls")),
    path("", include("cases.placements.api.urls")),
    path("", include("cases.statements.api.urls")),
    path("", include("cases.agencies.api.urls")),
]
