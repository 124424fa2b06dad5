"""API routes of Credit bureau furnishing (Metro 2 files, submissions)."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter()

urlpatterns = router.urls
