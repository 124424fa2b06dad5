"""The app ships its Simplified Chinese strings (cases/bureau_inquiry/locale)."""

from django.utils import translation

from cases.bureau_inquiry.models import BureauReport, Outcome


def test_outcomes_and_screens_read_in_simplified_chinese():
    with translation.override("zh-hans"):
        assert str(Outcome.CIRCUIT_OPEN.label) == "熔断开启：未调用"
        assert str(BureauReport._meta.get_field("score").verbose_name) == "评分"
        assert translation.gettext("No bureau report yet.") == "尚无征信报告。"
    with translation.override("en"):
        assert str(Outcome.CIRCUIT_OPEN.label) == "Circuit open: not called"
