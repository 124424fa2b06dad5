"""The /api/v1/ routes: each app's ``api/urls.py`` contributes its viewsets.

``/api/v1/`` itself is the API root (DRF's ``APIRootView``, as
``DefaultRouter`` would mount it): route name → URL of every registered
list route, read from the routers of the modules included below, so a
route registered later is listed the day it is registered. Routes nested
under a row (``customers/{id}/contact-points/``) have no URL without that
row and are left out. Signed-in callers only (the default permission).
"""

from django.urls import include, path
from django.utils.module_loading import import_module
from rest_framework.routers import APIRootView, BaseRouter

# (URL prefix under /api/v1/, urls module): one router per module.
_ROUTE_MODULES = (
    ("", "customers.api.urls"),
    ("", "cases.api.urls"),
    ("legal/", "legal.api.urls"),
    ("", "cases.bureau.api.urls"),
    ("", "cases.bureau_inquiry.api.urls"),
    ("", "cases.placements.api.urls"),
    ("", "cases.statements.api.urls"),
    ("", "cases.agencies.api.urls"),
)


def _api_root_dict() -> dict[str, str]:
    """Route prefix → URL name of its list route, for ``APIRootView``."""
    root = {}
    for base, module_name in _ROUTE_MODULES:
        module = import_module(module_name)
        for router in (value for value in vars(module).values() if isinstance(value, BaseRouter)):
            for prefix, _viewset, basename in router.registry:
                if "(?P<" not in prefix:
                    root.setdefault(base + prefix, f"{basename}-list")
    return root


urlpatterns = [
    path("", APIRootView.as_view(api_root_dict=_api_root_dict()), name="api-root"),
    *(path(base, include(module_name)) for base, module_name in _ROUTE_MODULES),
]
