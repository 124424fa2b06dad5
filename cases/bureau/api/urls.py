"""API routes of Credit bureau furnishing (Metro 2 files, submissions)."""

from rest_framework.routers import SimpleRouter

from cases.bureau.api.views import BureauSubmissionViewSet

router = SimpleRouter()
router.register("bureau-submissions", BureauSubmissionViewSet, basename="bureau-submission")

urlpatterns = router.urls
