"""API routes of payment statement files (``statements/``)."""

from rest_framework.routers import SimpleRouter

from cases.statements.api.views import StatementFileViewSet

router = SimpleRouter()
router.register("statements", StatementFileViewSet, basename="statement")

urlpatterns = router.urls
