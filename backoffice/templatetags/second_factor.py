"""``{% second_factor_enforced as enforced %}``: whether the admin's second
factor is enforced (``settings.OTP_ENFORCE``), for the banner that every
admin page shows when the demo switched it off (``admin/base_site.html``).
A tag rather than a context processor: admin pages rendered without a
request context (and error pages) show the banner too."""

from django import template

from backoffice.second_factor import enforced

register = template.Library()


@register.simple_tag
def second_factor_enforced() -> bool:
    return enforced()
