"""Risk model and watch list screens (issue 7: "with its back-test (AUC, KS,
calibration) shown in admin").

Imported by ``cases.admin``. Both screens are read-only: models are trained
by the weekly task (``cases.tasks.risk``) and the watch list is kept by the
close of business (``cases.services.risk.early_warning``). The model page
shows its numbers as they are stored (feature, mean, scale, coefficient)
and the back-test on the time-split holdout with a calibration chart drawn
server-side with matplotlib, like ``backoffice.charts``.
"""

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from backoffice.access import risk_models_for, watch_list_for
from backoffice.admin import ServiceOnlyAdmin
from backoffice.charts import ACCENT, GRID, _figure, _to_svg
from cases.models import RiskModel, WatchListEntry


def calibration_chart(table: list[dict]) -> str:
    """Predicted vs observed rate per bin, with the diagonal, as SVG."""
    fig, ax = _figure(4.5, 4.0)
    ax.plot([0, 1], [0, 1], linestyle="--", color=GRID, linewidth=1, label="perfect")
    if table:
        ax.plot(
            [row["predicted"] for row in table],
            [row["observed"] for row in table],
            marker="o",
            color=ACCENT,
            label="model",
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("mean predicted P(pay in 30d)")
    ax.set_ylabel("observed rate")
    ax.set_title("Calibration (holdout)", loc="left", fontsize=11)
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    return _to_svg(fig)


@admin.register(RiskModel)
class RiskModelAdmin(ServiceOnlyAdmin):
    list_display = ("version", "active", "as_of", "trained_from", "trained_to", "auc", "ks", "trained_at")
    list_filter = ("active",)
    ordering = ("-version",)

    def get_queryset(self, request):
        return risk_models_for(request.user)

    fields = (
        "version",
        "active",
        "algorithm",
        "as_of",
        "trained_from",
        "trained_to",
        "trained_at",
        "created_by",
        "backtest",
        "calibration",
        "coefficient_table",
    )
    readonly_fields = fields

    @admin.display(description="AUC")
    def auc(self, obj):
        return obj.metrics.get("auc")

    @admin.display(description="KS")
    def ks(self, obj):
        return obj.metrics.get("ks")

    @admin.display(description=_("back-test (time-split holdout)"))
    def backtest(self, obj):
        m = obj.metrics or {}
        return format_html(
            "AUC <strong>{}</strong> · KS <strong>{}</strong><br>"
            "train rows {} (paid rate {}) · holdout rows {} (paid rate {}) · holdout snapshots {}",
            m.get("auc"),
            m.get("ks"),
            m.get("train_rows"),
            m.get("train_positive_rate"),
            m.get("test_rows"),
            m.get("test_positive_rate"),
            ", ".join(m.get("holdout_dates", [])),
        )

    @admin.display(description=_("calibration"))
    def calibration(self, obj):
        table = (obj.metrics or {}).get("calibration", [])
        rows = format_html_join(
            "",
            '<tr><td>{}–{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td></tr>',
            ((r["lower"], r["upper"], r["count"], r["predicted"], r["observed"]) for r in table),
        )
        head = format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
            _("bin"),
            _("rows"),
            _("mean predicted"),
            _("observed rate"),
        )
        # The SVG is drawn here from numbers only; matplotlib escapes its text.
        return format_html("{}{}</tbody></table>{}", head, rows, mark_safe(calibration_chart(table)))  # noqa: S308

    @admin.display(description=_("model (standardised logistic regression)"))
    def coefficient_table(self, obj):
        rows = format_html_join(
            "",
            '<tr><td>{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td></tr>',
            (
                (name, round(mean, 4), round(scale, 4), round(coef, 4))
                for name, mean, scale, coef in zip(
                    obj.feature_names, obj.means, obj.scales, obj.coefficients, strict=False
                )
            ),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>intercept {}",
            _("feature"),
            _("mean"),
            _("scale"),
            _("coefficient"),
            rows,
            round(obj.intercept, 4),
        )


@admin.register(WatchListEntry)
class WatchListEntryAdmin(ServiceOnlyAdmin):
    list_display = ("debt", "reason_list", "since", "cleared_on")
    list_filter = ("cleared_on",)
    list_select_related = ("debt",)
    search_fields = ("debt__account_number",)
    fields = ("debt", "reasons", "since", "cleared_on")
    readonly_fields = fields

    def get_queryset(self, request):
        return watch_list_for(request.user).select_related("debt__customer")

    @admin.display(description=_("reasons"))
    def reason_list(self, obj):
        labels = dict(WatchListEntry.Reason.choices)
        return ", ".join(str(labels.get(code, code)) for code in obj.reasons)
