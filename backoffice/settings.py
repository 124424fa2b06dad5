"""Settings, read from the environment in this one place.

Nothing here needs a service: with no variables set the project runs on a
SQLite file with Celery tasks executed eagerly. Production sets
``DATABASE_URL``, ``CELERY_BROKER_URL``, ``SECRET_KEY``, ``DEBUG=false`` and
``ALLOWED_HOSTS``; a bad value stops start-up with a message naming it.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def _env_bool(name: str, default: bool) -> bool:
    raw = env.str(name, default=str(default)).strip().lower()
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


DEBUG = _env_bool("DEBUG", True)
_DEV_SECRET = "dev-only-insecure-key-do-not-use-in-production-ledgerline"
SECRET_KEY = env.str("SECRET_KEY", default="" if not DEBUG else _DEV_SECRET)
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    # API tokens: expiring, stored as hashes (django-rest-knox; backoffice.api.auth).
    "knox",
    # Login lockout per username and per address (django-axes; backoffice.lockout).
    "axes",
    "django_filters",
    "drf_spectacular",
    # Swagger UI served from our static files (no CDN; the CSP allows only this origin).
    "drf_spectacular_sidecar",
    "csp",
    "simple_history",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "backoffice.apps.CeleryBeatConfig",
    "backoffice",
    "customers",
    "cases",
    "legal",
    "cases.bureau",
    "cases.bureau_inquiry",
    "cases.placements",
    "cases.statements",
    "cases.agencies",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy (CONTENT_SECURITY_POLICY below) and Cache-Control: no-store.
    "backoffice.security_headers.ContentSecurityPolicyMiddleware",
    "backoffice.security_headers.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The second factor (issue #14): who verified with which device, then
    # the gate that sends staff who need one to verify or enrol
    # (``backoffice.second_factor``).
    "django_otp.middleware.OTPMiddleware",
    "backoffice.second_factor.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last: turns a login refused by the lockout into the lockout page
    # (AXES_LOCKOUT_CALLABLE).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "backoffice.urls"
WSGI_APPLICATION = "backoffice.wsgi.application"
ASGI_APPLICATION = "backoffice.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "backoffice" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                # The CSP nonce as ``csp_nonce`` for ``{% csp_nonce_attr %}`` (admin templates).
                "backoffice.security_headers.csp_nonce",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'ledgerline.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a lock instead of failing at once when the dev server and a
    # command write at the same time.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Placement and payment statement files larger than this are refused before
# any row is read (``backoffice.filereaders``).
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=256 * 1024 * 1024)
# Bounds checked before an import parses a row (``backoffice.filereaders``):
# data rows of a CSV or of any XLSX sheet, and the bytes an XLSX (a zip)
# expands to, so a small XLSX cannot unfold into millions of rows.
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=1_000_000)
IMPORT_MAX_UNCOMPRESSED_BYTES = env.int("IMPORT_MAX_UNCOMPRESSED_BYTES", default=200 * 1024 * 1024)
# Placement and statement imports from the admin and the API always run as a
# Celery task (never in the request), killed after IMPORT_TASK_TIME_LIMIT
# seconds (a soft limit a minute earlier lets the task record why). A file
# still validating/loading (statements: queued/importing) after
# IMPORT_STUCK_AFTER_MINUTES is marked failed by the sweeper so the same
# bytes can be sent again; it must be longer than the task's hard limit.
IMPORT_TASK_TIME_LIMIT = env.int("IMPORT_TASK_TIME_LIMIT", default=30 * 60)
IMPORT_TASK_SOFT_TIME_LIMIT = env.int("IMPORT_TASK_SOFT_TIME_LIMIT", default=IMPORT_TASK_TIME_LIMIT - 60)
IMPORT_STUCK_AFTER_MINUTES = env.int("IMPORT_STUCK_AFTER_MINUTES", default=60)
if not 0 < IMPORT_TASK_SOFT_TIME_LIMIT < IMPORT_TASK_TIME_LIMIT:
    raise ImproperlyConfigured("IMPORT_TASK_SOFT_TIME_LIMIT must be above 0 and below IMPORT_TASK_TIME_LIMIT")
if IMPORT_STUCK_AFTER_MINUTES * 60 <= IMPORT_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        "IMPORT_STUCK_AFTER_MINUTES must be longer than IMPORT_TASK_TIME_LIMIT (seconds): "
        "the sweeper would fail imports that are still running"
    )
# Evidence attached to a payment claim (a receipt: PDF, PNG or JPEG) larger
# than this is refused (``cases.services.claims``).
PAYMENT_CLAIM_EVIDENCE_MAX_BYTES = env.int("PAYMENT_CLAIM_EVIDENCE_MAX_BYTES", default=5 * 1024 * 1024)

# -- Who gets in (issue #14) ---------------------------------------------------------
# Every login (admin, auth/token/) goes through django-axes first: after
# AXES_FAILURE_LIMIT failures for one username, or from one address, the
# next attempts are refused for AXES_COOLOFF_MINUTES without checking the
# password; each lockout is written to the access records and an
# administrator can lift it early (admin: Axes > Access attempts, delete).
AUTHENTICATION_BACKENDS = [
    "backoffice.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_MINUTES = env.int("AXES_COOLOFF_MINUTES", default=30)
for _name in ("AXES_FAILURE_LIMIT", "AXES_COOLOFF_MINUTES"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1")
AXES_COOLOFF_TIME = timedelta(minutes=AXES_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Attempts during a lockout neither count nor extend it: the cool-off ends
# when announced. A success does not wipe the address's failures either (one
# valid account would otherwise reset the count of an address trying others).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "backoffice.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "backoffice.lockout.client_address"
AXES_USERNAME_CALLABLE = "backoffice.lockout.login_name"
# Axes logs each failure with the name and address masked; no start-up banner.
AXES_VERBOSE = False
# Requests pass through this many reverse proxies that append to
# X-Forwarded-For (the lockout and the API throttles read the client address
# the same way); 0 trusts only REMOTE_ADDR. Production (DEBUG=false) already
# assumes one TLS-terminating proxy (SECURE_PROXY_SSL_HEADER), so 1 there:
# with 0 behind a proxy every client would share the proxy's address, and
# five wrong passwords anywhere would lock everyone out.
NUM_PROXIES = env.int("NUM_PROXIES", default=0 if DEBUG else 1)
if NUM_PROXIES < 0:
    raise ImproperlyConfigured("NUM_PROXIES must be 0 or more")

# API rates ("N/second|minute|hour|day"). THROTTLE_USER is per signed-in user,
# THROTTLE_INTEGRATION per Integration service user, THROTTLE_ANON and
# THROTTLE_LOGIN (auth/token/) per address, THROTTLE_PAYMENTS per user on
# POST payments/.
THROTTLE_ANON = env.str("THROTTLE_ANON", default="30/minute")
THROTTLE_USER = env.str("THROTTLE_USER", default="120/minute")
THROTTLE_INTEGRATION = env.str("THROTTLE_INTEGRATION", default="600/minute")
THROTTLE_LOGIN = env.str("THROTTLE_LOGIN", default="10/minute")
THROTTLE_PAYMENTS = env.str("THROTTLE_PAYMENTS", default="30/minute")
_THROTTLES = ("THROTTLE_ANON", "THROTTLE_USER", "THROTTLE_INTEGRATION", "THROTTLE_LOGIN", "THROTTLE_PAYMENTS")
for _name in _THROTTLES:
    _count, _, _period = globals()[_name].partition("/")
    if not (_count.isdigit() and int(_count) > 0 and _period[:1] in {"s", "m", "h", "d"}):
        raise ImproperlyConfigured(f"{_name} must look like 120/minute, not {globals()[_name]!r}")

# Throttle counters (and anything else cached). One process: local memory;
# several gunicorn workers or machines must share one, e.g.
# CACHE_URL=redis://redis:6379/1, or each counts on its own.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

# API tokens (django-rest-knox): only a SHA-512 digest is stored; a token
# expires TOKEN_TTL_HOURS after login (INTEGRATION_TOKEN_TTL_HOURS for the
# Integration role's service users); a user holds at most
# TOKEN_LIMIT_PER_USER live tokens. A password change, deactivation or the
# loss of every role revokes all of a user's tokens (backoffice.tokens).
TOKEN_TTL_HOURS = env.int("TOKEN_TTL_HOURS", default=10)
INTEGRATION_TOKEN_TTL_HOURS = env.int("INTEGRATION_TOKEN_TTL_HOURS", default=7 * 24)
TOKEN_LIMIT_PER_USER = env.int("TOKEN_LIMIT_PER_USER", default=20)
for _name in ("TOKEN_TTL_HOURS", "INTEGRATION_TOKEN_TTL_HOURS", "TOKEN_LIMIT_PER_USER"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1")
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=TOKEN_TTL_HOURS),
    "TOKEN_LIMIT_PER_USER": TOKEN_LIMIT_PER_USER,
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}

# Deepest nesting of arrays/objects a JSON request body may have (``backoffice.parsers``).
API_JSON_MAX_DEPTH = env.int("API_JSON_MAX_DEPTH", default=32)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "backoffice.tokens.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "COERCE_DECIMAL_TO_STRING": True,
    "EXCEPTION_HANDLER": "backoffice.api.exception_handler",
    # JSON bodies: malformed, NaN or nested deeper than API_JSON_MAX_DEPTH → 400.
    "DEFAULT_PARSER_CLASSES": [
        "backoffice.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Throttling (backoffice.throttling): counters live in the "default"
    # cache (CACHE_URL). Anonymous callers by address, signed-in users by id
    # ("integration" instead of "user" for the Integration role); "login" on
    # auth/token/ by address, "payments" on POST payments/ by user.
    "DEFAULT_THROTTLE_CLASSES": [
        "backoffice.throttling.AnonymousThrottle",
        "backoffice.throttling.SignedInThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": THROTTLE_ANON,
        "user": THROTTLE_USER,
        "integration": THROTTLE_INTEGRATION,
        "login": THROTTLE_LOGIN,
        "payments": THROTTLE_PAYMENTS,
    },
    # The client address is the one NUM_PROXIES hops from the right of
    # X-Forwarded-For (0: REMOTE_ADDR, the header is ignored and cannot be forged).
    "NUM_PROXIES": NUM_PROXIES,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Ledgerline API",
    "DESCRIPTION": "Debt collection back office: accounts, ledger, payments, cases.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and Swagger UI are for staff only (issue 14); the assets come
    # from drf-spectacular-sidecar, served as our own static files.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAdminUser"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per choice set shared by several fields.
    "ENUM_NAME_OVERRIDES": {
        "LanguageEnum": "cases.models.dunning.LANGUAGES",
        "MessageChannelEnum": "cases.models.dunning.Channel.choices",
        "PaymentChannelEnum": "cases.models.PAYMENT_CHANNEL_CHOICES",
        "PlacementFileStatusEnum": "cases.placements.models.PLACEMENT_STATUS_CHOICES",
        "PlacementModeEnum": "cases.placements.models.PLACEMENT_MODE_CHOICES",
        "PlacementOutcomeEnum": "cases.placements.models.PLACEMENT_OUTCOME_CHOICES",
        "StatementFileStatusEnum": "cases.statements.models.STATEMENT_FILE_STATUS_CHOICES",
        "StatementLineStatusEnum": "cases.statements.models.STATEMENT_LINE_STATUS_CHOICES",
    },
}

# Celery: no broker configured means every task runs eagerly in-process.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

# Close of business works through open debts in id ranges of this size.
COB_CHUNK_SIZE = env.int("COB_CHUNK_SIZE", default=2000)

# Outgoing email (Django 6.1 MAILERS): console in development, SMTP when
# DEBUG is false unless EMAIL_BACKEND says otherwise.
MAILERS = {
    "default": {
        "BACKEND": env.str(
            "EMAIL_BACKEND",
            default="django.core.mail.backends." + ("console.EmailBackend" if DEBUG else "smtp.EmailBackend"),
        ),
    }
}
# SMS: "console" (print), "file" (append JSON lines to SMS_FILE_PATH) or
# "http" (POST to SMS_HTTP_URL with SMS_HTTP_TOKEN). Delivery receipts come
# back to /hooks/sms/receipt/ signed with SMS_WEBHOOK_SECRET (HMAC-SHA256).
SMS_BACKEND = env.str("SMS_BACKEND", default="console")
SMS_FILE_PATH = env.path("SMS_FILE_PATH", default=BASE_DIR / "sms-outbox.jsonl")
# The console backend prints the message id, a masked number and the body's
# length; true prints the number and the text too (a debtor's SMS is
# personal data: only on a developer's machine with invented data).
SMS_CONSOLE_SHOW_CONTENT = _env_bool("SMS_CONSOLE_SHOW_CONTENT", False)
SMS_HTTP_URL = env.str("SMS_HTTP_URL", default="")
SMS_HTTP_TOKEN = env.str("SMS_HTTP_TOKEN", default="")
SMS_HTTP_TIMEOUT = env.float("SMS_HTTP_TIMEOUT", default=10.0)
SMS_WEBHOOK_SECRET = env.str("SMS_WEBHOOK_SECRET", default="" if not DEBUG else "dev-sms-webhook-secret")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Ledgerline <noreply@localhost>")

# Credit bureau inquiry (cases.bureau_inquiry; docs/bureau-inquiry.md). No
# BUREAU_BASE_URL: every fetch is recorded as "not_configured", nothing called.
BUREAU_NAME = env.str("BUREAU_NAME", default="bureau")
BUREAU_BASE_URL = env.str("BUREAU_BASE_URL", default="")
BUREAU_CLIENT_ID = env.str("BUREAU_CLIENT_ID", default="")
BUREAU_API_KEY = env.str("BUREAU_API_KEY", default="")
BUREAU_CONNECT_TIMEOUT = env.float("BUREAU_CONNECT_TIMEOUT", default=3.0)
BUREAU_READ_TIMEOUT = env.float("BUREAU_READ_TIMEOUT", default=10.0)
BUREAU_MAX_RETRIES = env.int("BUREAU_MAX_RETRIES", default=2)
BUREAU_BACKOFF_BASE = env.float("BUREAU_BACKOFF_BASE", default=0.5)
BUREAU_BACKOFF_MAX = env.float("BUREAU_BACKOFF_MAX", default=8.0)
BUREAU_RETRY_AFTER_MAX = env.float("BUREAU_RETRY_AFTER_MAX", default=30.0)
BUREAU_RATE_LIMIT_PER_MINUTE = env.int("BUREAU_RATE_LIMIT_PER_MINUTE", default=60)
BUREAU_CIRCUIT_FAILURES = env.int("BUREAU_CIRCUIT_FAILURES", default=5)
BUREAU_CIRCUIT_COOLDOWN = env.float("BUREAU_CIRCUIT_COOLDOWN", default=60.0)
BUREAU_REFRESH_EVERY_DAYS = env.int("BUREAU_REFRESH_EVERY_DAYS", default=30)
BUREAU_REFRESH_MIN_BUCKET = env.int("BUREAU_REFRESH_MIN_BUCKET", default=2)
BUREAU_SCORE_DROP_POINTS = env.int("BUREAU_SCORE_DROP_POINTS", default=50)
for _name in ("BUREAU_RATE_LIMIT_PER_MINUTE", "BUREAU_CIRCUIT_FAILURES", "BUREAU_REFRESH_EVERY_DAYS"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1")

# Credit bureau furnishing (cases.bureau; docs/bureau-furnishing.md): where
# monthly Metro 2 files go. "local" copies into METRO2_OUTBOX_DIR; "sftp"
# uploads with paramiko (the host key must be in METRO2_SFTP_KNOWN_HOSTS or
# the system's known hosts).
METRO2_TRANSPORT = env.str("METRO2_TRANSPORT", default="local")
if METRO2_TRANSPORT not in ("local", "sftp"):
    raise ImproperlyConfigured("METRO2_TRANSPORT must be 'local' or 'sftp'")
METRO2_OUTBOX_DIR = env.path("METRO2_OUTBOX_DIR", default=BASE_DIR / "bureau-outbox")
METRO2_SFTP_HOST = env.str("METRO2_SFTP_HOST", default="")
METRO2_SFTP_PORT = env.int("METRO2_SFTP_PORT", default=22)
METRO2_SFTP_USERNAME = env.str("METRO2_SFTP_USERNAME", default="")
METRO2_SFTP_PASSWORD = env.str("METRO2_SFTP_PASSWORD", default="")
METRO2_SFTP_KEY_FILE = env.str("METRO2_SFTP_KEY_FILE", default="")
METRO2_SFTP_DIRECTORY = env.str("METRO2_SFTP_DIRECTORY", default=".")
METRO2_SFTP_KNOWN_HOSTS = env.str("METRO2_SFTP_KNOWN_HOSTS", default="")
METRO2_SFTP_TIMEOUT = env.float("METRO2_SFTP_TIMEOUT", default=30.0)
METRO2_CHUNK_SIZE = env.int("METRO2_CHUNK_SIZE", default=2000)
if METRO2_CHUNK_SIZE < 1:
    raise ImproperlyConfigured("METRO2_CHUNK_SIZE must be at least 1")

SIMPLE_HISTORY_HISTORY_ID_USE_UUID = False
SIMPLE_HISTORY_REVERT_DISABLED = True

LOGIN_URL = "admin:login"

# Second factor for the admin (django-otp; ``backoffice.second_factor``):
# Administrator, Supervisor, Compliance, Agency, holders of
# ``customers.view_full_id`` and superusers must verify a TOTP code (or a
# backup code) after their password. OTP_REQUIRED_FOR_ALL asks every staff
# user. OTP_ENFORCE=false switches the gate off for the demo only: it is
# refused unless DEBUG is true, and every admin page then says so.
OTP_ENFORCE = _env_bool("OTP_ENFORCE", True)
if not OTP_ENFORCE and not DEBUG:
    raise ImproperlyConfigured(
        "OTP_ENFORCE=false is only allowed with DEBUG=true (demo settings); "
        "production always enforces the second factor"
    )
OTP_REQUIRED_FOR_ALL = _env_bool("OTP_REQUIRED_FOR_ALL", False)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Ledgerline")
# Wrong codes: django-otp refuses the next try for 1, 2, 4, 8… seconds
# (factor × 2^(failures-1)) per device.
OTP_TOTP_THROTTLE_FACTOR = env.int("OTP_TOTP_THROTTLE_FACTOR", default=1)
OTP_STATIC_THROTTLE_FACTOR = env.int("OTP_STATIC_THROTTLE_FACTOR", default=1)
for _name in ("OTP_TOTP_THROTTLE_FACTOR", "OTP_STATIC_THROTTLE_FACTOR"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1 (0 would switch throttling off)")
# The device screens never show another user's secret or backup codes.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp 4; backoffice.security_headers). Scripts
# and styles come from this origin or carry the per-request nonce; no inline
# handlers, no inline style attributes (the dashboard's SVG charts use SVG
# presentation attributes instead, backoffice.charts), no plugins, no framing.
# CSP_REPORT_URI, when set, is where browsers report violations.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "report-uri": env.str("CSP_REPORT_URI", default="") or None,
    },
}

# No personal data in logs (issue #15, docs/logging.md): every handler
# carries backoffice.logfilters.RedactPersonalData, which blanks the values
# of these query parameters in any URL of a log record and any national ID,
# SSN or phone number shape. Django's own handlers (DEFAULT_LOGGING) are
# redefined here so that they carry it too.
LOG_REDACTED_QUERY_PARAMETERS = env.list(
    "LOG_REDACTED_QUERY_PARAMETERS",
    default=["q", "search", "national_id", "phone", "email", "value", "name"],
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_personal_data": {"()": "backoffice.logfilters.RedactPersonalData"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_personal_data"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact_personal_data"],
        },
        "mail_admins": {
            "level": "ERROR",
            "class": "django.utils.log.AdminEmailHandler",
            "filters": ["require_debug_false", "redact_personal_data"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # One line per task is noise when tasks run eagerly in bulk (the demo).
    "loggers": {
        # Django's defaults, with the handlers above (django.* reaches the
        # console through the root logger).
        "django": {"handlers": ["mail_admins"], "level": "INFO"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        "celery.app.trace": {"level": env.str("CELERY_TASK_LOG_LEVEL", default="WARNING")},
        # WeasyPrint reports every rendering step at INFO.
        "weasyprint": {"level": "WARNING"},
        "weasyprint.progress": {"level": "WARNING"},
    },
}
