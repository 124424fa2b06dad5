"""``seed_demo`` refuses to fill a production database (DEBUG false) unless told otherwise."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from cases.models import Debt

pytestmark = pytest.mark.django_db


def test_refuses_when_debug_is_false_and_writes_nothing(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError) as refused:
        call_command("seed_demo", customers=1, stdout=StringIO(), verbosity=0)

    message = str(refused.value)
    assert "DEBUG is false" in message and "--i-know-this-is-not-production" in message
    assert not get_user_model().objects.filter(username="admin").exists()
    assert not Debt.objects.exists()


def test_runs_when_debug_is_false_with_the_flag(settings):
    settings.DEBUG = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    call_command("seed_demo", "--i-know-this-is-not-production", customers=2, stdout=StringIO(), verbosity=0)

    assert get_user_model().objects.filter(username="admin").exists()
    assert Debt.objects.exists()
