"""The /api/v1/ router: each app registers its viewsets here."""

from django.urls import include, path

urlpatterns = []
