"""API rate limits (issue #14): DRF throttles, rates from settings
(``THROTTLE_*``, ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``), counters in
the ``default`` cache. A refused request answers 429 with ``Retry-After``
and a JSON ``detail`` (DRF's ``Throttled``).

- ``AnonymousThrottle`` (``anon``, per address) and ``SignedInThrottle``
  (``user`` per user; ``integration`` instead for the Integration role's
  service users, which send more, and whose budget is their own) are the
  defaults of every view. DRF checks them after authentication and
  permissions, so an unauthenticated call to a protected endpoint is a
  cheap 401 and is not counted.
- ``LoginThrottle`` (``login``, per address, every call) is the only throttle
  of ``auth/token/``: password guessing is also locked out per name and
  address by django-axes (``backoffice.lockout``); this caps the rate at
  which anyone can even try.
- ``PaymentPostingThrottle`` (``payments``, per user) counts only
  ``POST payments/`` (the ``create`` action) of people; Integration users'
  postings fall under their ``integration`` budget.

This module sits beside ``backoffice.api``, not in it: DRF imports the
default throttle classes while ``rest_framework.views`` itself is being
imported, and ``backoffice.api`` imports from that module.

The address is DRF's ``get_ident``: ``REMOTE_ADDR``, or the entry
``NUM_PROXIES`` hops from the right of ``X-Forwarded-For`` behind proxies.
"""

from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

from backoffice.access import roles_of
from backoffice.roles import INTEGRATION


def is_integration(user) -> bool:
    """A member of the Integration role. Superusers are people (and asking
    would cost them a query the access rules never make for them)."""
    if not (user and user.is_authenticated) or user.is_superuser:
        return False
    return INTEGRATION in roles_of(user)


class AnonymousThrottle(AnonRateThrottle):
    scope = "anon"


class SignedInThrottle(UserRateThrottle):
    """``user`` for people, ``integration`` for Integration service users."""

    scope = "user"

    def allow_request(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return True  # AnonymousThrottle's business
        self.scope = "integration" if is_integration(user) else "user"
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


class LoginThrottle(SimpleRateThrottle):
    """Every call to the token endpoint, per client address."""

    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class PaymentPostingThrottle(UserRateThrottle):
    """``POST payments/`` by a person; nothing else."""

    scope = "payments"

    def get_cache_key(self, request, view):
        if request.method != "POST" or getattr(view, "action", None) != "create":
            return None
        if not request.user.is_authenticated or is_integration(request.user):
            return None
        return super().get_cache_key(request, view)
