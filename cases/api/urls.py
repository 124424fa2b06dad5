"""``policies/``, ``creditors/``, ``products/``, ``debts/``, ``payments/``, ``cases/``."""

from rest_framework.routers import SimpleRouter

from cases.api import views

router = SimpleRouter()
router.register("policies", views.PolicyViewSet, basename="policy")
router.register("creditors", views.CreditorViewSet, basename="creditor")
router.register("products", views.ProductViewSet, basename="product")
router.register("debts", views.DebtViewSet, basename="debt")
router.register("payments", views.PaymentViewSet, basename="payment")
router.register("cases", views.CollectionCaseViewSet, basename="case")

urlpatterns = router.urls
