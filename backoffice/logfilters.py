"""Keep personal data out of log lines (issue #15; docs/logging.md).

``RedactPersonalData`` is a ``logging.Filter`` that every handler of
``settings.LOGGING`` carries (the root console, ``django.server``,
``mail_admins``; Celery's worker handlers get it in ``backoffice.celery``,
gunicorn's through the ``logconfig_dict`` in docs/logging.md). It rewrites
the record in place, before any formatter sees it:

- the values of the query parameters named by
  ``settings.LOG_REDACTED_QUERY_PARAMETERS`` (``q``, ``search``,
  ``national_id``, ``phone``, ``email``, ``value``, ``name``; also as a
  lookup, ``customer__phone__icontains``, and percent-encoded inside another
  parameter such as ``next=``) become ``[redacted]`` in any URL or request
  line of the message, its arguments and its extra fields;
- anything shaped like a national ID (18 characters, CN), a US Social
  Security number (``123-45-6789``) or a phone number (E.164 ``+…``, also
  ``%2B…``; a CN mobile with or without ``86``) becomes ``[national-id]``,
  ``[ssn]``, ``[phone]`` anywhere in the message, its arguments, the
  exception text and the extra fields;
- a Django request attached to the record (``django.request`` puts it there
  for ``mail_admins``) is replaced by a ``RedactedRequest``, whose path,
  full path, absolute URI, ``GET``, ``POST`` and ``META`` are redacted the
  same way.

What it cannot do: recognise a name, an address or an email address in free
text. Our own log lines carry ids only (``tests/security/
test_no_personal_data_in_logs.py`` scans a whole scenario for seeded names);
a new log line must do the same.
"""

from __future__ import annotations

import functools
import logging
import re

from django.http import HttpRequest, QueryDict

REDACTED = "[redacted]"

# What settings.LOG_REDACTED_QUERY_PARAMETERS defaults to (also used before
# Django's settings are configured, e.g. in gunicorn's master process).
DEFAULT_REDACTED_QUERY_PARAMETERS = ("q", "search", "national_id", "phone", "email", "value", "name")

_SHAPES = (
    # 17 digits and a check digit or X (GB 11643), not inside a longer number.
    (re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])"), "[national-id]"),
    (re.compile(r"(?<![0-9])[0-9]{3}-[0-9]{2}-[0-9]{4}(?![0-9])"), "[ssn]"),
    # E.164, with its plus sign as it is or percent-encoded in a URL.
    (re.compile(r"(?:\+|%2[Bb])[1-9][0-9]{7,14}(?![0-9])"), "[phone]"),
    # A CN mobile number without the plus sign.
    (re.compile(r"(?<![0-9])(?:86)?1[3-9][0-9]{9}(?![0-9])"), "[phone]"),
)

# Record attributes every LogRecord has: never "extra" fields.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_MAX_DEPTH = 4


def redacted_parameters() -> tuple[str, ...]:
    """The query parameters whose values never reach a log line."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        return tuple(getattr(settings, "LOG_REDACTED_QUERY_PARAMETERS", DEFAULT_REDACTED_QUERY_PARAMETERS))
    except ImproperlyConfigured:
        return DEFAULT_REDACTED_QUERY_PARAMETERS


@functools.lru_cache(maxsize=8)
def _parameter_patterns(names: tuple[str, ...]) -> tuple[re.Pattern, re.Pattern]:
    alternatives = "|".join(re.escape(name) for name in names)
    # ``name``, or a lookup through it: ``customer__phone__icontains``.
    key = rf"(?:\w+__)?(?:{alternatives})(?:__\w+)?"
    plain = re.compile(rf"((?:^|(?<=[?&;])){key}=)[^&;#\s\"']*", re.IGNORECASE)
    # The same inside a percent-encoded URL (``next=/admin/…%3Fq%3D…``).
    encoded = re.compile(rf"((?:%3F|%26){key}%3D)(?:(?!%26)[^&;#\s\"'])*", re.IGNORECASE)
    return plain, encoded


def redact_text(text: str) -> str:
    """``text`` with redacted query values and no ID, SSN or phone shapes."""
    if not text:
        return text
    plain, encoded = _parameter_patterns(redacted_parameters())
    text = plain.sub(rf"\1{REDACTED}", text)
    text = encoded.sub(rf"\1{REDACTED}", text)
    for pattern, replacement in _SHAPES:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(value, depth: int = 0):
    """Strings redacted; lists, tuples and dicts copied with their strings
    redacted; anything else as it is (the message check catches it)."""
    if isinstance(value, str):
        return redact_text(value)
    if depth >= _MAX_DEPTH:
        return value
    if isinstance(value, dict):
        return {key: _redact_value(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact_value(item, depth + 1) for item in value)
    if isinstance(value, HttpRequest):
        return RedactedRequest(value)
    return value


def _redacted_querydict(query: QueryDict) -> QueryDict:
    names = {name.lower() for name in redacted_parameters()}
    copy = QueryDict(mutable=True)
    for key, values in query.lists():
        bare = key.lower().split("__")
        hidden = any(part in names for part in bare)
        copy.setlist(key, [REDACTED if hidden else redact_text(v) for v in values])
    copy._mutable = False
    return copy


_META_URL_KEYS = (
    "QUERY_STRING",
    "PATH_INFO",
    "REQUEST_URI",
    "RAW_URI",
    "HTTP_REFERER",
    "SCRIPT_URL",
    "SCRIPT_URI",
)


class RedactedRequest:
    """The request as a log record shows it: everything is the real request's
    but the path, the URLs, the query and form values and the URL-bearing
    ``META`` keys, which are redacted (``redact_text``)."""

    def __init__(self, request: HttpRequest):
        self._request = request

    def __getattr__(self, name):
        return getattr(self._request, name)

    def __repr__(self) -> str:
        return f"<RedactedRequest: {self.method} {self.get_full_path()!r}>"

    @property
    def path(self) -> str:
        return redact_text(self._request.path)

    @property
    def path_info(self) -> str:
        return redact_text(self._request.path_info)

    def get_full_path(self, force_append_slash: bool = False) -> str:
        return redact_text(self._request.get_full_path(force_append_slash))

    def get_full_path_info(self, force_append_slash: bool = False) -> str:
        return redact_text(self._request.get_full_path_info(force_append_slash))

    def build_absolute_uri(self, location=None) -> str:
        return redact_text(self._request.build_absolute_uri(location))

    @property
    def GET(self) -> QueryDict:  # noqa: N802 - HttpRequest's name
        return _redacted_querydict(self._request.GET)

    @property
    def POST(self) -> QueryDict:  # noqa: N802 - HttpRequest's name
        return _redacted_querydict(self._request.POST)

    @property
    def META(self) -> dict:  # noqa: N802 - HttpRequest's name
        meta = dict(self._request.META)
        for key in _META_URL_KEYS:
            if isinstance(meta.get(key), str):
                meta[key] = redact_text(meta[key])
        return meta


def redact_record(record: logging.LogRecord) -> None:
    """Rewrite ``record`` in place (see the module docstring)."""
    if isinstance(record.msg, str):
        record.msg = redact_text(record.msg)
    if isinstance(record.args, dict):
        # In place: gunicorn's atoms are a dict subclass whose lookups the
        # access format relies on (any case, "-" when missing).
        args = record.args
        for key, value in list(args.items()):
            args[key] = _redact_value(value)
        # gunicorn's ``q`` atom is the bare query string.
        if isinstance(args.get("q"), str) and args["q"]:
            args["q"] = redact_text("?" + args["q"])[1:]
    elif isinstance(record.args, tuple):
        record.args = _redact_value(record.args)
    if record.args:
        # An argument that is not a string (a number, an object whose str()
        # holds an ID) shows only once formatted: check the whole line.
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format is logging's to report
            message = None
        if message is not None and redact_text(message) != message:
            record.msg, record.args = redact_text(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact_text(record.exc_text)
    if record.stack_info:
        record.stack_info = redact_text(record.stack_info)
    for name, value in list(vars(record).items()):
        if name not in _STANDARD_ATTRIBUTES:
            setattr(record, name, _redact_value(value))


class RedactPersonalData(logging.Filter):
    """The filter for every handler (``settings.LOGGING``: ``redact_personal_data``).

    It never drops a record; if redacting fails, the line is replaced by a
    notice rather than passed on unredacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_personal_data_redacted", False):
            return True  # a second handler sees the record already rewritten
        try:
            redact_record(record)
        except Exception:  # noqa: BLE001 - never let a log call break the caller
            record.msg, record.args = "[log line withheld: it could not be redacted]", None
            record.exc_info = record.exc_text = record.stack_info = None
        record._personal_data_redacted = True
        return True


def add_to_handlers(logger: logging.Logger) -> None:
    """Give every handler of ``logger`` the filter (loggers configured
    outside ``settings.LOGGING``: Celery's worker, gunicorn)."""
    for handler in logger.handlers:
        if not any(isinstance(f, RedactPersonalData) for f in handler.filters):
            handler.addFilter(RedactPersonalData())


# gunicorn (docs/logging.md): an access line with the method and the path
# (``%(U)s``) but neither the request line nor the query string nor the
# referrer (``%(r)s``, ``%(q)s``, ``%(f)s`` carry ``?q=…``), and every
# gunicorn handler through the filter. In ``gunicorn.conf.py``::
#
#     from backoffice.logfilters import GUNICORN_ACCESS_LOG_FORMAT, GUNICORN_LOGCONFIG
#     access_log_format = GUNICORN_ACCESS_LOG_FORMAT
#     logconfig_dict = GUNICORN_LOGCONFIG
GUNICORN_ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s" %(D)s'
GUNICORN_LOGCONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_personal_data": {"()": "backoffice.logfilters.RedactPersonalData"}},
    "formatters": {
        "generic": {"format": "%(asctime)s [%(process)d] [%(levelname)s] %(message)s"},
        "access": {"format": "%(message)s"},
    },
    "handlers": {
        # gunicorn's defaults name the root logger's handler "console".
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "generic",
            "filters": ["redact_personal_data"],
            "stream": "ext://sys.stderr",
        },
        "access": {
            "class": "logging.StreamHandler",
            "formatter": "access",
            "filters": ["redact_personal_data"],
            "stream": "ext://sys.stdout",
        },
    },
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["access"], "propagate": False},
    },
}
