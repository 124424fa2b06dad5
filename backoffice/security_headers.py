"""Response headers that keep personal data out of caches and scripts out of pages.

- ``ContentSecurityPolicyMiddleware`` is django-csp's middleware
  (``settings.CONTENT_SECURITY_POLICY``) except for PDF responses: Chrome
  shows a PDF in a viewer page that the PDF response's own policy governs,
  and ``object-src 'none'`` or a strict ``style-src`` there leaves the
  letter preview blank (crbug.com/271452). A PDF runs no script of ours,
  so it goes without the policy; every HTML page and API response has it.
- ``NoStoreMiddleware`` marks every response Django renders
  ``Cache-Control: no-store``. Admin pages, API responses, the calendar feed
  and exports all can carry personal data, and a page that does not today
  may tomorrow; a browser's back button or a shared proxy must never serve
  one from its cache. Static files are served outside Django and are not
  touched. A view that sets its own ``Cache-Control`` keeps its directives
  and gains ``no-store``.
- ``csp_nonce`` (a template context processor) hands django-csp's
  per-request nonce to templates as ``csp_nonce``, the name Django's own
  ``{% csp_nonce_attr %}`` tag reads. Django 6's admin templates put that
  tag on their ``<script>``/``<style>`` elements; without this bridge they
  would render without a nonce and the Content-Security-Policy
  (``settings.CONTENT_SECURITY_POLICY``, enforced by
  ``csp.middleware.CSPMiddleware``) would block them. The nonce is lazy:
  only a page that renders it gets one in its header.
"""

from csp.middleware import CSPMiddleware
from django.utils.cache import patch_cache_control


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def process_response(self, request, response):
        if response.get("Content-Type", "").split(";")[0].strip().lower() == "application/pdf":
            response._csp_exempt = True
        return super().process_response(request, response)


class NoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_cache_control(response, no_store=True)
        return response


def csp_nonce(request) -> dict:
    nonce = getattr(request, "csp_nonce", None)
    return {"csp_nonce": nonce} if nonce is not None else {}
