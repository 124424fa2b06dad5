"""Non-admin legal URLs, mounted at ``/legal/`` by ``backoffice/urls.py``."""

from django.urls import re_path

from legal.calendar import TOKEN_PATTERN, calendar_feed

app_name = "legal"

urlpatterns = [
    # Only the characters a token is made of (``secrets.token_urlsafe``): a
    # NUL byte or any other junk is a 404 here and never reaches the database.
    re_path(rf"^calendar/(?P<token>{TOKEN_PATTERN})\.ics$", calendar_feed, name="calendar-feed"),
]
