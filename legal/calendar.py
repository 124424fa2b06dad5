"""The iCalendar feed of a user's hearings and deadlines (``/legal/calendar/<token>.ics``).

Calendar apps cannot sign in, so the URL carries a per-user random token
(``CalendarToken``); an unknown token, or the token of an inactive user,
answers 404 and reveals nothing. The feed lists the hearings and open
deadlines of the matters assigned to the user, among those
``legal.access.matters_for`` lets them see, from 30 days back on.
Built with the ``icalendar`` library (STYLE.md, "Libraries before
hand-written code").
"""

import re
from datetime import timedelta

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils import timezone
from icalendar import Calendar, Event

from legal.access import matters_for
from legal.models import CalendarToken
from legal.selectors import calendar_items

HEARING_LENGTH = timedelta(hours=1)
LOOKBACK_DAYS = 30


def token_for(user) -> CalendarToken:
    """The user's token, made on first use."""
    token, _ = CalendarToken.objects.get_or_create(user=user)
    return token


def build_calendar(user, *, today) -> Calendar:
    matters = matters_for(user).filter(assigned_to=user)
    hearings, deadlines = calendar_items(matters, since=today - timedelta(days=LOOKBACK_DAYS))
    cal = Calendar()
    cal.add("prodid", "-//Ledgerline//Legal//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"Ledgerline legal · {user.get_username()}")
    cal.add("x-wr-timezone", settings.TIME_ZONE)
    stamp = timezone.now()
    for hearing in hearings:
        matter = hearing.matter
        event = Event()
        event.add("uid", f"hearing-{hearing.pk}@ledgerline")
        event.add("dtstamp", stamp)
        event.add("dtstart", hearing.starts_at)
        event.add("dtend", hearing.starts_at + HEARING_LENGTH)
        event.add("summary", f"Hearing · {matter.case_number or f'matter {matter.pk}'}")
        where = ", ".join(x for x in (str(matter.court or ""), hearing.court_room) if x)
        if where:
            event.add("location", where)
        if hearing.judge:
            event.add("description", f"Judge: {hearing.judge}")
        cal.add_component(event)
    for deadline in deadlines:
        matter = deadline.matter
        event = Event()
        event.add("uid", f"deadline-{deadline.pk}@ledgerline")
        event.add("dtstamp", stamp)
        event.add("dtstart", deadline.due_on)
        event.add("dtend", deadline.due_on + timedelta(days=1))
        event.add(
            "summary",
            f"Deadline: {deadline.title or deadline.get_kind_display()} · "
            f"{matter.case_number or f'matter {matter.pk}'}",
        )
        cal.add_component(event)
    return cal


# A feed token as ``legal.models.new_calendar_token`` makes it (URL-safe base64).
TOKEN_PATTERN = r"[A-Za-z0-9_-]{1,64}"
_TOKEN = re.compile(TOKEN_PATTERN)


def calendar_feed(request, token: str):
    if not _TOKEN.fullmatch(token):
        raise Http404  # the URL pattern refuses it too; this view never queries with junk
    row = CalendarToken.objects.select_related("user").filter(token=token).first()
    if row is None or not row.user.is_active:
        raise Http404
    cal = build_calendar(row.user, today=timezone.localdate())
    response = HttpResponse(cal.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="ledgerline-legal.ics"'
    return response
