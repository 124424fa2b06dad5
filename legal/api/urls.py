"""``legal/matters/``, ``legal/filings/``, ``legal/hearings/``, ``legal/deadlines/``,
``legal/costs/``; mounted at ``/api/v1/legal/`` by ``backoffice/api/urls.py``."""

from rest_framework.routers import SimpleRouter

from legal.api import views

router = SimpleRouter()
router.register("matters", views.MatterViewSet, basename="legal-matter")
router.register("filings", views.FilingViewSet, basename="legal-filing")
router.register("hearings", views.HearingViewSet, basename="legal-hearing")
router.register("deadlines", views.DeadlineViewSet, basename="legal-deadline")
router.register("costs", views.LegalCostViewSet, basename="legal-cost")

urlpatterns = router.urls
