"""API routes of Credit bureau inquiries (reports, skip trace)."""

from rest_framework.routers import SimpleRouter

from cases.bureau_inquiry.api.views import BureauReportViewSet

router = SimpleRouter()
router.register("bureau-reports", BureauReportViewSet, basename="bureau-report")

urlpatterns = router.urls
