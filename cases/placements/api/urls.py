"""API routes of placement files (``placements/``)."""

from rest_framework.routers import SimpleRouter

from cases.placements.api.views import PlacementFileViewSet

router = SimpleRouter()
router.register("placements", PlacementFileViewSet, basename="placement")

urlpatterns = router.urls
