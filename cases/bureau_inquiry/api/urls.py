"""API routes of Credit bureau inquiries (reports, skip trace)."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter()

urlpatterns = router.urls
