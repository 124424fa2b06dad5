"""The /api/v1/ router: each app registers its viewsets here."""


urlpatterns = []
