"""Landing per role (issue #16): where the site root sends a signed-in user,
and the admin index's "Your work" links.

``/`` used to be a 404 (and so was the admin's "View site" link). Now:

============================ =================================================
role                         lands on
============================ =================================================
Collector, Agency            My queue
Team lead                    My queue: a team queue does not exist yet, and a
                             team lead's My queue is the closest screen
Legal                        the legal Upcoming page (hearings, deadlines)
Supervisor, Compliance       the KPI dashboard; for a role the dashboard
                             refuses (``dashboard.can_view_dashboard``, which
                             today leaves Compliance out), the audit trail,
                             so nobody lands on a 403
Payments                     the payment-claims queue
Administrator, superuser,    the admin index
no role
anonymous                    the admin login, then back to ``/``
============================ =================================================

A user with several roles lands on the first page of ``work_links`` (the
order above: the work that is done by the hour comes first); the admin
index lists all of them.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from backoffice import access
from backoffice.roles import (
    ADMINISTRATOR,
    AGENCY,
    COLLECTOR,
    COMPLIANCE,
    LEGAL,
    PAYMENTS,
    SUPERVISOR,
    TEAM_LEAD,
)
from backoffice.views.audit import can_view_audit
from backoffice.views.dashboard import can_view_dashboard


def _supervision_page(user) -> tuple[str, str] | None:
    if can_view_dashboard(user):
        return _("KPI dashboard"), reverse("kpi-dashboard")
    if can_view_audit(user):
        return _("Audit trail"), reverse("audit-trail")
    return None


def work_links(user) -> list[tuple[str, str]]:
    """(label, URL) of the work pages of ``user``'s roles, most urgent
    first, without duplicates; empty for anonymous users and users without
    a role (superusers get the admin index only)."""
    if not user or not user.is_authenticated or not user.is_active:
        return []
    roles = access.roles_of(user)
    candidates: list[tuple[str, str] | None] = []
    if roles & {COLLECTOR, AGENCY, TEAM_LEAD}:
        candidates.append((_("My queue"), reverse("admin:cases_collectioncase_my_queue")))
    if LEGAL in roles:
        candidates.append((_("Upcoming hearings and deadlines"), reverse("admin:legal_legalmatter_upcoming")))
    if PAYMENTS in roles:
        candidates.append((_("Payment claims"), reverse("admin:cases_paymentclaim_changelist")))
    if roles & {SUPERVISOR, COMPLIANCE}:
        candidates.append(_supervision_page(user))
    if user.is_superuser or ADMINISTRATOR in roles:
        candidates.append((_("Site administration"), reverse("admin:index")))
    links, seen = [], set()
    for link in candidates:
        if link is not None and link[1] not in seen:
            seen.add(link[1])
            links.append(link)
    return links


def landing_url(user) -> str:
    """Where ``/`` sends ``user``: the first of their work pages (superusers
    and administrators: the admin index, which lists the others)."""
    if user.is_superuser or ADMINISTRATOR in access.roles_of(user):
        return reverse("admin:index")
    links = work_links(user)
    return links[0][1] if links else reverse("admin:index")


@require_safe
def landing_view(request):
    """``/``: a redirect to the user's work page, or to the admin login
    (``next=/``) for anonymous visitors. Nothing is rendered here."""
    if not request.user.is_authenticated:
        query = urlencode({"next": "/"})
        return HttpResponseRedirect(f"{reverse('admin:login')}?{query}")
    return HttpResponseRedirect(landing_url(request.user))
