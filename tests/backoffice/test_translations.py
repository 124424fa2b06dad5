"""The committed Simplified Chinese catalogue (locale/zh_Hans) is loaded at run time."""

import pytest
from django.urls import reverse
from django.utils import translation

from cases.models import CollectionPolicy, LedgerEntry


def test_model_names_are_translated():
    with translation.override("zh-hans"):
        assert str(LedgerEntry._meta.verbose_name_plural) == "账务分录"
        assert str(CollectionPolicy._meta.verbose_name_plural) == "催收策略"
        assert str(LedgerEntry.Kind.WAIVER.label) == "减免"
        assert translation.gettext("My queue") == "我的工作队列"
    with translation.override("en"):
        assert str(LedgerEntry._meta.verbose_name_plural) == "ledger entries"


@pytest.mark.django_db
def test_admin_index_in_simplified_chinese(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    page = response.content.decode()
    assert "后台管理" in page  # our index_title
    assert "账务分录" in page  # our model name
