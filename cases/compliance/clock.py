"""Local time for the contact rules (RULES.md §4): zones, local days, windows.

Everything here is pure and works on timezone-aware datetimes with
``zoneinfo``, so a local day is exactly what the customer's wall clock says,
23 or 25 hours long on a DST change (America/New_York on 2026-03-08 and
2026-11-01), never "24 hours from midnight UTC".
"""

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezone

# Where a customer of a jurisdiction may be when nothing better is known
# (RULES §4 ``hours``: the window must hold in every zone they could be in).
# The first zone is the jurisdiction's home zone for counting local days.
JURISDICTION_ZONES: dict[str, tuple[str, ...]] = {
    "CN": ("Asia/Shanghai",),
    "US": ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"),
}
UNKNOWN_ZONE = "Etc/Unknown"


def zone(name: str | None) -> ZoneInfo:
    """The ``ZoneInfo`` for ``name``; UTC when empty."""
    return ZoneInfo(name) if name else ZoneInfo("UTC")


def local_date(moment: datetime, zone_name: str | None) -> date:
    """The calendar date on the wall clock of ``zone_name`` at ``moment``."""
    if moment.tzinfo is None:
        raise ValueError("a contact time must be timezone-aware")
    return moment.astimezone(zone(zone_name)).date()


def day_start(day: date, zone_name: str | None) -> datetime:
    """The first instant of local ``day`` (aware, in the zone)."""
    return datetime.combine(day, time(0), tzinfo=zone(zone_name))


def utc_range(first: date, last: date, zone_name: str | None) -> tuple[datetime, datetime]:
    """``[start, end)`` in UTC covering the local days ``first``..``last``
    inclusive; what a database filter on an aware timestamp needs."""
    start = day_start(first, zone_name).astimezone(UTC)
    end = day_start(last + timedelta(days=1), zone_name).astimezone(UTC)
    return start, end


def opening_on(day: date, hour: int, zone_name: str | None) -> datetime:
    """``hour``:00 on local ``day`` (the start of that day's contact window)."""
    return datetime.combine(day, time(hour), tzinfo=zone(zone_name))


def inside_window(local: datetime, start: int, end: int) -> bool:
    moment = local.time()
    return time(start) <= moment and (end >= 24 or moment < time(end))


def inside_every_window(at: datetime, zones: list[ZoneInfo], start: int, end: int) -> bool:
    return all(inside_window(at.astimezone(z), start, end) for z in zones)


def next_window(at: datetime, zones: list[ZoneInfo], start: int, end: int) -> datetime | None:
    """The first moment ≥ ``at`` inside the window in every zone, or ``None``
    when the zones' windows never overlap. Such a moment is always the start
    of some zone's window, so only those instants need testing."""
    candidates = set()
    for z in zones:
        today = at.astimezone(z).date()
        for offset in range(3):
            opening = datetime.combine(today + timedelta(days=offset), time(start), tzinfo=z)
            if opening > at:
                candidates.add(opening.astimezone(at.tzinfo))
    for moment in sorted(candidates):
        if inside_every_window(moment, zones, start, end):
            return moment
    return None


def candidate_zones(
    *, time_zone: str | None, phone_numbers: Iterable[str], jurisdiction: str
) -> tuple[str, ...]:
    """The zones a customer could be in (RULES §4 ``hours``).

    A known time zone is used alone. Otherwise every zone any of their phone
    numbers could be in (``phonenumbers``); when no number says anything, the
    jurisdiction's zones.
    """
    if time_zone:
        try:
            ZoneInfo(time_zone)
            return (time_zone,)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    zones: set[str] = set()
    for value in phone_numbers:
        try:
            number = phonenumbers.parse(value, jurisdiction)
        except phonenumbers.NumberParseException:
            continue
        zones.update(z for z in phone_timezone.time_zones_for_number(number) if z != UNKNOWN_ZONE)
    if not zones:
        zones.update(JURISDICTION_ZONES.get(jurisdiction, JURISDICTION_ZONES["CN"]))
    return tuple(sorted(zones))


def home_zone(*, time_zone: str | None, candidates: tuple[str, ...], jurisdiction: str) -> str:
    """The zone whose calendar days the daily and weekly caps count in.

    The customer's own zone when known. Otherwise the jurisdiction's first
    zone if they could be there (America/New_York, Asia/Shanghai), else the
    first candidate: deterministic, so the same attempt always falls on the
    same day. (No model field says which of several zones is home.)
    """
    if time_zone and time_zone in candidates:
        return time_zone
    for name in JURISDICTION_ZONES.get(jurisdiction, ()):
        if name in candidates:
            return name
    return candidates[0] if candidates else "UTC"
