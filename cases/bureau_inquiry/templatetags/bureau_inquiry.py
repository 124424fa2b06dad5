"""``{% bureau_panel case %}``: the newest credit bureau report of the case's
customer on the case page, and the "Refresh now" button for those who may."""

from django import template
from django.urls import reverse

from backoffice.access import bureau_reports_for, may_request_bureau_report, writable_cases_for

register = template.Library()


@register.inclusion_tag("bureau_inquiry/case_panel.html", takes_context=True)
def bureau_panel(context, case):
    request = context["request"]
    user = request.user
    visible = bureau_reports_for(user)
    report = visible.filter(customer_id=case.customer_id).order_by("-fetched_at", "-id").first()
    may_refresh = may_request_bureau_report(user) and writable_cases_for(user).filter(pk=case.pk).exists()
    list_url = (
        reverse("admin:bureau_inquiry_bureaureport_changelist") + f"?customer__id__exact={case.customer_id}"
    )
    return {
        "report": report,
        "shown": report is not None or may_refresh,
        "may_refresh": may_refresh,
        "refresh_url": reverse("admin:bureau_inquiry_bureaureport_refresh_case", args=[case.pk]),
        "list_url": list_url,
        "csrf_token": context.get("csrf_token"),
    }
