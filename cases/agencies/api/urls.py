"""API routes of Outside collection agencies (委外): ``agencies/`` and
``agency-placements/`` (DESIGN.md, Contracts)."""

from rest_framework.routers import SimpleRouter

from cases.agencies.api import views

router = SimpleRouter()
router.register("agencies", views.AgencyViewSet, basename="agency")
router.register("agency-placements", views.AgencyPlacementViewSet, basename="agency-placement")

urlpatterns = router.urls
