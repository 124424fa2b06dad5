"""The /api/v1/ routes: each app's ``api/urls.py`` contributes its viewsets."""

from django.urls import include, path

urlpatterns = [
    path("", include("customers.api.urls")),
    path("", include("cases.api.urls")),
    path("legal/", include("legal.api.urls")),
]
