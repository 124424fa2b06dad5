"""Replacing a calendar feed link: the old URL stops working, the change is on record."""

import pytest
from django.urls import reverse

from backoffice import roles
from backoffice.errors import NotAllowed
from legal.calendar import token_for
from legal.models import CalendarToken
from legal.services import rotate_calendar_token
from tests.legal.conftest import user_in

NEW_LINK_URL = "admin:legal_legalmatter_new_calendar_link"


def feed(token: str) -> str:
    return f"/legal/calendar/{token}.ics"


def test_new_link_on_the_upcoming_page_retires_the_old_url(client, legal_user):
    old = token_for(legal_user).token
    client.force_login(legal_user)
    assert client.get(feed(old)).status_code == 200

    response = client.post(reverse(NEW_LINK_URL))

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:legal_legalmatter_upcoming")
    new = CalendarToken.objects.get(user=legal_user).token
    assert new != old
    assert client.get(feed(old)).status_code == 404
    assert client.get(feed(new)).status_code == 200
    page = client.get(reverse("admin:legal_legalmatter_upcoming")).content.decode()
    assert feed(new) in page and feed(old) not in page


def test_the_upcoming_page_offers_the_new_link_button(client, legal_user):
    client.force_login(legal_user)

    page = client.get(reverse("admin:legal_legalmatter_upcoming")).content.decode()

    assert f'action="{reverse(NEW_LINK_URL)}"' in page
    assert "New link (the old one stops working)" in page


def test_the_replacement_is_in_the_history_with_actor_and_reason_but_not_the_secret(client, legal_user):
    old = token_for(legal_user).token
    client.force_login(legal_user)

    client.post(reverse(NEW_LINK_URL))

    row = CalendarToken.objects.get(user=legal_user)
    last = row.history.order_by("-history_id").first()
    assert last.history_type == "~"
    assert last.history_user == legal_user
    assert last.history_change_reason == "calendar link replaced by its owner"
    assert last.rotated_at == row.rotated_at is not None
    history_columns = {f.name for f in type(last)._meta.fields}
    assert "token" not in history_columns
    assert not any(old in str(value) or row.token in str(value) for value in last.__dict__.values())


def test_get_does_not_replace_the_link(client, legal_user):
    old = token_for(legal_user).token
    client.force_login(legal_user)

    response = client.get(reverse(NEW_LINK_URL))

    assert response.status_code == 405
    assert CalendarToken.objects.get(user=legal_user).token == old


def test_a_user_without_legal_screens_cannot_replace_a_link(client, setup_roles):
    collector = user_in(roles.COLLECTOR, "collector-x")
    client.force_login(collector)

    response = client.post(reverse(NEW_LINK_URL))

    assert response.status_code == 403
    assert not CalendarToken.objects.filter(user=collector).exists()


def test_one_user_cannot_replace_another_users_link(legal_user, setup_roles):
    colleague = user_in(roles.LEGAL, "colleague")
    old = token_for(legal_user).token

    with pytest.raises(NotAllowed):
        rotate_calendar_token(user=legal_user, actor=colleague, reason="not mine")

    assert CalendarToken.objects.get(user=legal_user).token == old


def test_replacing_a_link_that_was_never_shown_creates_one(legal_user):
    token = rotate_calendar_token(user=legal_user, actor=legal_user, reason="first link")

    assert CalendarToken.objects.get(user=legal_user).token == token.token
    assert token.history.get().history_change_reason == "first link"
