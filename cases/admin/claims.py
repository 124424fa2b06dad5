"""The payment claims queue (maker–checker, issue #14).

Imported by ``cases.admin``. Claims are recorded on the case page (or
through ``payment-claims/``) and change only through
``cases.services.claims``: this screen lists the claims of the cases the user
sees (``backoffice.access.payment_claims_for``), pending first, and offers
holders of ``cases.approve_payment`` two actions: "Approve" (posts each
claim through ``post_payment``) and "Reject…" (asks for the reason). The
evidence file is served only through this screen, to users who see the claim.
"""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.http import FileResponse, Http404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from backoffice.access import may_approve_payments, payment_claims_for
from backoffice.admin import EstimatedCountPaginator, ServiceOnlyAdmin, service_form_response
from cases.forms import ReasonForm
from cases.models import PaymentClaim
from cases.services.claims import approve_claim, reject_claim

EVIDENCE_TYPES = {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg"}

SHOWN = (
    "debt",
    "amount",
    "currency",
    "received_on",
    "channel",
    "reference",
    "evidence_link",
    "status",
    "claimed_by",
    "created_at",
    "decided_by",
    "decided_at",
    "reject_reason",
    "payment",
)


@admin.register(PaymentClaim)
class PaymentClaimAdmin(ServiceOnlyAdmin):
    # Fits 1366 px: the reference and the decider are on the claim's page.
    list_display = (
        "created_at",
        "debt",
        "claimed_amount",
        "received_on",
        "channel",
        "status",
        "claimed_by",
        "evidence_link",
    )
    list_filter = ("status", "channel")
    search_fields = ("reference", "debt__account_number")
    list_select_related = ("debt", "claimed_by", "decided_by")
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    fields = SHOWN
    readonly_fields = SHOWN
    actions = ["approve_selected", "reject_selected"]

    @admin.display(description=_("amount"), ordering="amount")
    def claimed_amount(self, obj):
        """Currency and thousands separators: ``CNY 12,500.00``."""
        return f"{obj.currency} {obj.amount:,.2f}"

    def get_queryset(self, request):
        # Pending first (the queue), then newest.
        return payment_claims_for(request.user).annotate(
            pending_first=Case(
                When(status=PaymentClaim.Status.PENDING, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )

    def get_ordering(self, request):
        return ["pending_first", "-created_at", "-id"]

    def has_approve_permission(self, request):
        return may_approve_payments(request.user)

    @admin.display(description=_("evidence"))
    def evidence_link(self, obj):
        if not obj.evidence:
            return "—"
        url = reverse("admin:cases_paymentclaim_evidence", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Download"))

    def get_urls(self):
        return [
            path(
                "<path:object_id>/evidence/",
                self.admin_site.admin_view(never_cache(self.evidence_view)),
                name="cases_paymentclaim_evidence",
            ),
            *super().get_urls(),
        ]

    def evidence_view(self, request, object_id):
        """The claim's evidence file, to a user who sees the claim; else 404."""
        claim = None
        if str(object_id).isdigit():
            claim = payment_claims_for(request.user).filter(pk=int(object_id)).first()
        if claim is None or not claim.evidence:
            raise Http404
        extension = claim.evidence.name.rsplit(".", 1)[-1].lower()
        try:
            handle = claim.evidence.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        return FileResponse(
            handle,
            as_attachment=True,
            filename=f"payment-claim-{claim.pk}.{extension}",
            content_type=EVIDENCE_TYPES.get(extension, "application/octet-stream"),
        )

    def _decide(self, request, queryset, call, done_message) -> None:
        done, failed = 0, []
        for claim in queryset.order_by("pk"):
            try:
                call(claim)
                done += 1
            except ValidationError as exc:
                failed.append(f"{claim}: {' '.join(exc.messages)}")
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)
        for line in failed:
            self.message_user(request, line, messages.ERROR)

    @admin.action(description=_("Approve (post the payments)"), permissions=["approve"])
    def approve_selected(self, request, queryset):
        self._decide(
            request,
            queryset,
            lambda claim: approve_claim(
                claim=claim, actor=request.user, reason="approved in the claims queue"
            ),
            gettext("%(count)d claim(s) approved and posted."),
        )

    @admin.action(description=_("Reject (reason)…"), permissions=["approve"])
    def reject_selected(self, request, queryset):
        if "apply" in request.POST:
            form = ReasonForm(request.POST)
            if form.is_valid():
                reason = form.cleaned_data["reason"]
                self._decide(
                    request,
                    queryset,
                    lambda claim: reject_claim(claim=claim, actor=request.user, reason=reason),
                    gettext("%(count)d claim(s) rejected."),
                )
                return None
        else:
            form = ReasonForm()
        return service_form_response(
            self,
            request,
            queryset,
            form=form,
            action="reject_selected",
            title=gettext("Reject payment claims"),
            submit_label=gettext("Reject claims"),
            intro=gettext("The claimant reads the reason; nothing is posted."),
        )
