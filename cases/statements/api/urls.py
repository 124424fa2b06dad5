"""API routes of Payment statement files and the suspense queue."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter()

urlpatterns = router.urls
