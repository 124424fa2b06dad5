"""``policies/``, ``creditors/``, ``products/``, ``debts/``, ``payments/``, ``cases/``, and
the collection work: ``teams/``, ``contacts/``, ``promises/``, ``plans/``,
``settlements/``, ``disputes/``, ``messages/``; ``payment-claims/`` (maker–checker, issue #14)."""

from rest_framework.routers import SimpleRouter

from cases.api import claims, message_views, views, work_views

router = SimpleRouter()
router.register("policies", views.PolicyViewSet, basename="policy")
router.register("creditors", views.CreditorViewSet, basename="creditor")
router.register("products", views.ProductViewSet, basename="product")
router.register("debts", views.DebtViewSet, basename="debt")
router.register("payments", views.PaymentViewSet, basename="payment")
router.register("payment-claims", claims.PaymentClaimViewSet, basename="payment-claim")
router.register("cases", views.CollectionCaseViewSet, basename="case")
router.register("teams", work_views.TeamViewSet, basename="team")
router.register("contacts", work_views.ContactViewSet, basename="contact")
router.register("promises", work_views.PromiseViewSet, basename="promise")
router.register("plans", work_views.PlanViewSet, basename="plan")
router.register("settlements", work_views.SettlementViewSet, basename="settlement")
router.register("disputes", work_views.DisputeViewSet, basename="dispute")
router.register("messages", message_views.MessageViewSet, basename="message")

urlpatterns = router.urls
