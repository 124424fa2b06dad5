"""Non-admin legal URLs, mounted at ``/legal/`` by ``backoffice/urls.py``."""

from django.urls import path

from legal.calendar import calendar_feed

app_name = "legal"

urlpatterns = [
    path("calendar/<str:token>.ics", calendar_feed, name="calendar-feed"),
]
