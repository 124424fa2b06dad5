"""``customers/`` and its nested ``contact-points/`` and ``third-parties/``."""

from rest_framework.routers import SimpleRouter

from customers.api import views

router = SimpleRouter()
router.register("customers", views.CustomerViewSet, basename="customer")
router.register(
    r"customers/(?P<customer_pk>[0-9]+)/contact-points",
    views.ContactPointViewSet,
    basename="customer-contact-point",
)
router.register(
    r"customers/(?P<customer_pk>[0-9]+)/third-parties",
    views.ThirdPartyContactViewSet,
    basename="customer-third-party",
)

urlpatterns = router.urls
