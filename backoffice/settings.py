"""Settings, read from the environment in this one place.

Nothing here needs a service: with no variables set the project runs on a
SQLite file with Celery tasks executed eagerly. Production sets
``DATABASE_URL``, ``CELERY_BROKER_URL``, ``SECRET_KEY``, ``DEBUG=false`` and
``ALLOWED_HOSTS``; a bad value stops start-up with a message naming it.
"""

from pathlib import Path

import environ
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
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "simple_history",
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
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
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
# Placement files up to this size are imported in the request (admin, API);
# larger ones run as a Celery task (``cases.placements``).
PLACEMENT_INLINE_MAX_BYTES = env.int("PLACEMENT_INLINE_MAX_BYTES", default=2 * 1024 * 1024)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "COERCE_DECIMAL_TO_STRING": True,
    "EXCEPTION_HANDLER": "backoffice.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Ledgerline API",
    "DESCRIPTION": "Debt collection back office: accounts, ledger, payments, cases.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # One line per task is noise when tasks run eagerly in bulk (the demo).
    "loggers": {
        "celery.app.trace": {"level": env.str("CELERY_TASK_LOG_LEVEL", default="WARNING")},
        # WeasyPrint reports every rendering step at INFO.
        "weasyprint": {"level": "WARNING"},
        "weasyprint.progress": {"level": "WARNING"},
    },
}
