"""Settings for the remote wealth-manager workbench.

Everything environment-specific comes from the environment (12-factor). With no
environment at all except DJANGO_SECRET_KEY the project runs on a SQLite file and an
embedded (filesystem) Celery broker, so a bare machine can run it; production and CI
point DATABASE_URL at PostgreSQL and CELERY_BROKER_URL at Redis.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from core.project import PROJECT_APPS

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("WORKBENCH_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    # No default on purpose: a forgotten production key must stop the process, not
    # silently fall back to a known value. `make run` exports a dev-only key.
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set (make run sets a development key).")

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "django_tables2",
    "django_filters",
    "axes",
    # The project's apps, bottom to top (docs/architecture.md; import-linter checks it).
    *PROJECT_APPS,
]

MIDDLEWARE = [
    "core.timing.ServerTimingMiddleware",  # only with WORKBENCH_SERVER_TIMING (benchmarks, tuning)
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "core.middleware.RefuseControlCharactersMiddleware",  # before anything reads the input
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.SessionIdleMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "workbench.middleware.ProductNotFoundMiddleware",
    "core.middleware.RequestContextMiddleware",
    "axes.middleware.AxesMiddleware",
]

# A Server-Timing header on every response: total and SQL time, query count (core.timing).
WORKBENCH_SERVER_TIMING = env.bool("WORKBENCH_SERVER_TIMING", default=False)

ROOT_URLCONF = "workbench.urls"
WSGI_APPLICATION = "workbench.wsgi.application"
ASGI_APPLICATION = "workbench.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "workbench.context_processors.shell",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite is the zero-setup path: WAL lets the web server and the Celery worker
    # read while the other writes; the timeout waits out short write locks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif not env.bool("DATABASE_JIT", default=False):
    # PostgreSQL's JIT compiler starts on a query whose *estimate* passes jit_above_cost:
    # a page's grouped aggregate over 2,000 referrals (a sub-plan per row) or a capped
    # count was estimated past it and spent 60-240 ms compiling a query that runs in 5 ms.
    # Off for the project's connections (DATABASE_JIT=true turns it back on).
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://workbench")}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: after AXES_FAILURE_LIMIT failures for one username from one
# address, that pair is locked out for AXES_COOLOFF_TIME hours.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "DJANGO_STATICFILES_STORAGE",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage",
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=10 * 1024 * 1024)

# --- Security: production-safe by default (README "Production settings") --------------
# With DEBUG off the site is assumed to be served over HTTPS: redirect, HSTS and Secure
# cookies are on unless a setting turns them off. DJANGO_HTTPS=false is the one switch for
# a plain-http deployment (the test settings use it: the test client and the browser
# tests' live server speak http); each part can still be set on its own.
_https = env.bool("DJANGO_HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=_https)
# Behind a TLS-terminating proxy: "HTTP_X_FORWARDED_PROTO=https" (header=value). Only set
# it when the proxy always sets (and strips a client's) header, or clients can fake https.
_proxy_header = env.str("DJANGO_SECURE_PROXY_SSL_HEADER", default="")
if _proxy_header:
    _name, _sep, _value = _proxy_header.partition("=")
    if not _sep or not _name.strip() or not _value.strip():
        raise ImproperlyConfigured("DJANGO_SECURE_PROXY_SSL_HEADER must look like HTTP_X_FORWARDED_PROTO=https.")
    SECURE_PROXY_SSL_HEADER = (_name.strip(), _value.strip())
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=365 * 24 * 3600 if _https else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# Preloading is a promise to the browsers' HSTS list for the whole domain: the bank's
# domain owners decide it, so it is off unless set (check --deploy's W021, in the README).
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=_https)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
# A session ends after WORKBENCH_SESSION_IDLE_MINUTES without a request and when the
# browser closes. The idle clock is core.middleware.SessionIdleMiddleware's (it refreshes
# the session at most once a minute, so not every request writes the session row).
WORKBENCH_SESSION_IDLE_MINUTES = env.int("WORKBENCH_SESSION_IDLE_MINUTES", default=30)
if WORKBENCH_SESSION_IDLE_MINUTES < 1:
    raise ImproperlyConfigured("WORKBENCH_SESSION_IDLE_MINUTES must be at least 1.")
SESSION_COOKIE_AGE = WORKBENCH_SESSION_IDLE_MINUTES * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("DJANGO_SESSION_EXPIRE_AT_BROWSER_CLOSE", default=True)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (core.middleware.SecurityHeadersMiddleware): scripts and styles
# from this site's static files only, no inline script, handler or style attribute.
WORKBENCH_CSP = env.str(
    "WORKBENCH_CSP",
    default=(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
)

# --- Celery -------------------------------------------------------------------------
# Default: Kombu's filesystem transport, an embedded broker that needs no server; the
# web process and the worker exchange messages through files under var/celery.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
_celery_dir = VAR_DIR / "celery"
# A message taken by a worker that dies comes back after the visibility timeout (Redis).
# Tasks acknowledge late and are rejected back to the queue when their worker process is
# lost; a worker killed outright (its messages unacknowledged) is covered sooner by the
# job sweeper below, so the timeout only has to outlast the longest task's hard limit
# (training, 3,700 s), never to be short.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3900)
# Background jobs (core.Job): a job whose worker has not reported for this long is lost
# and its message is sent again by `core.sweep_jobs` (every WORKBENCH_JOB_SWEEP_SECONDS).
# Workers report when they claim or finish a part and at every progress update (a
# rescoring chunk takes about 9 s, an import reports every 10,000 rows), so the lease
# only has to outlast the longest silence of a live worker. Duplicates are harmless: a
# part is done once under its row lock, a running job refuses a second claim.
WORKBENCH_JOB_LEASE_SECONDS = env.int("WORKBENCH_JOB_LEASE_SECONDS", default=360)
WORKBENCH_JOB_SWEEP_SECONDS = env.float("WORKBENCH_JOB_SWEEP_SECONDS", default=60)
WORKBENCH_JOB_MAX_ATTEMPTS = env.int("WORKBENCH_JOB_MAX_ATTEMPTS", default=5)
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(_celery_dir / "queue"),
        "data_folder_out": str(_celery_dir / "queue"),
        "processed_folder": str(_celery_dir / "processed"),
        "control_folder": str(_celery_dir / "control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
)
CELERY_RESULT_BACKEND = None  # progress and results live in core.Job rows
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
# Every task declares its own time limits; these catch one that forgot.
CELERY_TASK_SOFT_TIME_LIMIT = 600
CELERY_TASK_TIME_LIMIT = 660
# Two queues by kind of work, so a million-customer rescoring never delays the scan of a
# call note or the rescoring of the customer an advisor just called. Production runs
# workers for each (`celery -A workbench worker -Q interactive` and `-Q bulk`); `make run`
# runs one worker for both.
CELERY_TASK_DEFAULT_QUEUE = "interactive"
# The uplift model is retrained this many days after its last training (beat checks every
# WORKBENCH_UPLIFT_CHECK_SECONDS); a new version replaces the one in use only if not worse.
WORKBENCH_UPLIFT_RETRAIN_DAYS = env.int("WORKBENCH_UPLIFT_RETRAIN_DAYS", default=7)
WORKBENCH_UPLIFT_CHECK_SECONDS = env.float("WORKBENCH_UPLIFT_CHECK_SECONDS", default=6 * 3600)
BULK_TASKS = (
    "scoring.rescore_all",
    "scoring.rescore_chunk",
    "scoring.train_model",
    "scoring.resurface_pool",
    "compliance.rescan",
    "compliance.qa_sample_week",
    "customers.import_batch_run",
    "referrals.sla_check",
    "core.purge_read_notifications",
    "campaigns.enrol_dispatch",
    "campaigns.enrol_chunk",
    "campaigns.enrol_running",
    "campaigns.sweep_triggers",
    "campaigns.train_uplift",
    "campaigns.retrain_uplift",
    "campaigns.refresh_holdout_report",
)
# The sweeper stays on the interactive queue: it must run while the bulk queue is busy.
# So does campaigns.dispatch_messages: customers are waiting for those messages, and each
# run stops after a time budget (campaigns/channels/dispatch.py), so it never holds it long.
CELERY_TASK_ROUTES = {name: {"queue": "bulk"} for name in BULK_TASKS}
CELERY_BEAT_SCHEDULE_FILENAME = str(_celery_dir / "beat-schedule")
CELERY_BEAT_SCHEDULE: dict = {
    "sweep-jobs": {"task": "core.sweep_jobs", "schedule": WORKBENCH_JOB_SWEEP_SECONDS},
    "purge-read-notifications": {"task": "core.purge_read_notifications", "schedule": 24 * 3600},
    "scoring-train-weekly": {"task": "scoring.train_model", "schedule": 7 * 24 * 3600.0},
    "scoring-resurface-pool": {"task": "scoring.resurface_pool", "schedule": 30 * 60},
    "referrals-sla-check": {"task": "referrals.sla_check", "schedule": 15 * 60},
    "compliance-qa-sample-week": {"task": "compliance.qa_sample_week", "schedule": 6 * 3600.0},  # samples a week once
    "campaigns-advance-calendar": {"task": "campaigns.advance_calendar", "schedule": 5 * 60},
    "leads-rebalance-call-tasks": {"task": "leads.rebalance_call_tasks", "schedule": 15 * 60},
    "campaigns-advance-journeys": {"task": "campaigns.advance_journeys", "schedule": 60},
    "campaigns-enrol-running": {"task": "campaigns.enrol_running", "schedule": 3600},
    "campaigns-dispatch-messages": {
        "task": "campaigns.dispatch_messages",
        "schedule": env.float("WORKBENCH_CHANNEL_DISPATCH_SECONDS", default=30),
    },
    "campaigns-sweep-triggers": {"task": "campaigns.sweep_triggers", "schedule": 5 * 60},
    "cadence-plan-calls": {"task": "cadence.plan_calls", "schedule": 3600},  # idempotent: one call per customer
    "campaigns-refresh-results": {"task": "campaigns.refresh_results", "schedule": 10 * 60},
    # asks every few hours; trains only when the last training is WORKBENCH_UPLIFT_RETRAIN_DAYS old
    "campaigns-refresh-holdout-report": {"task": "campaigns.refresh_holdout_report", "schedule": 3600},
    "campaigns-retrain-uplift": {"task": "campaigns.retrain_uplift", "schedule": WORKBENCH_UPLIFT_CHECK_SECONDS},
    "dashboards-refresh-recent": {"task": "dashboards.refresh_recent", "schedule": 15 * 60},
}

# --- REST API -----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "core.pagination.ApiPagination",  # limit capped at 1,000
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Remote wealth-manager workbench API",
    "DESCRIPTION": "远程理财经理工作台 API: customers, leads, call logs, referrals and compliance.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One schema name per choice set used by several fields (check --deploy warns otherwise).
    "ENUM_NAME_OVERRIDES": {
        "GradeEnum": "leads.models.Grade",
        "RejectReasonEnum": "referrals.models.RejectReason",
    },
    # Every status code a view can return is in the document (core.api).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.add_error_responses",
    ],
}

# --- django-tables2 -------------------------------------------------------------------
DJANGO_TABLES2_TEMPLATE = "core/_table.html"

# --- Business settings (practice, configurable; see ../shared/DOMAIN.md) ----------------
# Tier thresholds in CNY of AUM: below BASE is long tail, below WEALTH is base, below
# PRIVATE is wealth, from PRIVATE up private banking.
WORKBENCH_TIER_BASE_MIN = env.int("WORKBENCH_TIER_BASE_MIN", default=50_000)
WORKBENCH_TIER_WEALTH_MIN = env.int("WORKBENCH_TIER_WEALTH_MIN", default=500_000)
WORKBENCH_TIER_PRIVATE_MIN = env.int("WORKBENCH_TIER_PRIVATE_MIN", default=6_000_000)
WORKBENCH_RISK_ASSESSMENT_VALID_DAYS = env.int("WORKBENCH_RISK_ASSESSMENT_VALID_DAYS", default=365)
# Referral SLAs in working days (leads.referrals; holidays in the referrals admin calendar).
WORKBENCH_REFERRAL_REVIEW_DAYS = env.float("WORKBENCH_REFERRAL_REVIEW_DAYS", default=1)
WORKBENCH_REFERRAL_FIRST_CONTACT_DAYS = env.float("WORKBENCH_REFERRAL_FIRST_CONTACT_DAYS", default=2)
WORKBENCH_REFERRAL_ESCALATE_AFTER_DAYS = env.float("WORKBENCH_REFERRAL_ESCALATE_AFTER_DAYS", default=1)
WORKBENCH_REFERRAL_BUSINESS_START_HOUR = env.int("WORKBENCH_REFERRAL_BUSINESS_START_HOUR", default=9)
WORKBENCH_REFERRAL_EMAIL = env.bool("WORKBENCH_REFERRAL_EMAIL", default=False)  # also e-mail referral notifications
# Queues and calls (leads): contact policy and nurture cadence, see docs/queues.md.
WORKBENCH_CALL_HOURS_START = env.str("WORKBENCH_CALL_HOURS_START", default="09:00")
WORKBENCH_CALL_HOURS_END = env.str("WORKBENCH_CALL_HOURS_END", default="21:00")
WORKBENCH_CALL_HOURS_TZ = env.str("WORKBENCH_CALL_HOURS_TZ", default="Asia/Shanghai")
WORKBENCH_CALL_WEEKLY_CAP = env.int("WORKBENCH_CALL_WEEKLY_CAP", default=3)
WORKBENCH_CALL_CAP_WINDOW_DAYS = env.int("WORKBENCH_CALL_CAP_WINDOW_DAYS", default=7)
WORKBENCH_PRIVATE_COOLING_OFF_HOURS = env.int("WORKBENCH_PRIVATE_COOLING_OFF_HOURS", default=24)
WORKBENCH_OPT_OUT_DND_DAYS = env.int("WORKBENCH_OPT_OUT_DND_DAYS", default=180)
# The contact ledger (customers.services.ledger): marketing contacts per customer in the
# cap window, per channel (phone: WORKBENCH_CALL_WEEKLY_CAP) and over all channels.
WORKBENCH_CONTACT_CHANNEL_CAP = env.int("WORKBENCH_CONTACT_CHANNEL_CAP", default=3)
WORKBENCH_CONTACT_TOTAL_CAP = env.int("WORKBENCH_CONTACT_TOTAL_CAP", default=5)
# Campaigns: this percentage of customers (by a hash of the id) is the global holdout.
WORKBENCH_CAMPAIGN_HOLDOUT_PERCENT = env.int("WORKBENCH_CAMPAIGN_HOLDOUT_PERCENT", default=5)
# Customers per chunk of a campaign's enrolment job (an id range, one transaction).
WORKBENCH_CAMPAIGN_ENROL_CHUNK = env.int("WORKBENCH_CAMPAIGN_ENROL_CHUNK", default=20_000)
# A trigger sweep evaluates the customer base in id ranges of this size, one transaction each.
WORKBENCH_CAMPAIGN_TRIGGER_CHUNK = env.int("WORKBENCH_CAMPAIGN_TRIGGER_CHUNK", default=50_000)
# Campaign results: a conversion counts for an enrolment within this many days of entry
# (day 0 the day of entry); it is also the fixed horizon after which results are final.
WORKBENCH_CAMPAIGN_ATTRIBUTION_DAYS = env.int("WORKBENCH_CAMPAIGN_ATTRIBUTION_DAYS", default=30)
# Planned calls an advisor takes a day unless their staff profile says otherwise.
WORKBENCH_DAILY_CALL_CAPACITY = env.int("WORKBENCH_DAILY_CALL_CAPACITY", default=60)
WORKBENCH_NURTURE_TOUCHES = env.int("WORKBENCH_NURTURE_TOUCHES", default=3)
WORKBENCH_NURTURE_PERIOD_DAYS = env.int("WORKBENCH_NURTURE_PERIOD_DAYS", default=14)
WORKBENCH_EFFECTIVE_CONTACT_TARGET = env.float("WORKBENCH_EFFECTIVE_CONTACT_TARGET", default=0.8)
# Lead scoring: OpenMP threads for training/inference (1: the machine is shared with the web and
# the other workers; oversubscribed OpenMP is many times slower), rescoring chunk size in ids.
WORKBENCH_SCORING_THREADS = env.int("WORKBENCH_SCORING_THREADS", default=1)
# Imports commit this many lines at a time, each chunk with its record (core.JobChunk).
WORKBENCH_IMPORT_CHUNK_ROWS = env.int("WORKBENCH_IMPORT_CHUNK_ROWS", default=10_000)
WORKBENCH_SCORING_CHUNK_IDS = env.int("WORKBENCH_SCORING_CHUNK_IDS", default=100_000)
# Customer portraits (customers): private placements only for qualified investors (AUM in
# CNY); API payload limits; list counts are exact up to this many rows, estimated beyond.
WORKBENCH_PRIVATE_QUALIFIED_AUM_MIN = env.int("WORKBENCH_PRIVATE_QUALIFIED_AUM_MIN", default=3_000_000)
WORKBENCH_API_MAX_ROWS = env.int("WORKBENCH_API_MAX_ROWS", default=1000)
WORKBENCH_LIST_COUNT_CAP = env.int("WORKBENCH_LIST_COUNT_CAP", default=1_000)

# --- Campaign channels (campaigns/channels; docs/campaigns.md, "Channels and adapters") -----
# Which adapter sends each channel: "outbox" (development: kept for the outbox page),
# "smtp" (Django's e-mail backend) or "webhook" (the bank's signed HTTP gateway), as
# ``sms=webhook,email=smtp``. A channel not named uses the outbox, so `make run` works
# offline.
WORKBENCH_CHANNEL_ADAPTERS = env.dict("WORKBENCH_CHANNEL_ADAPTERS", default={})
_CHANNEL_ADAPTER_NAMES = ("outbox", "smtp", "webhook")
# The gateway of each channel sent by webhook: its URL and its own signing secret.
WORKBENCH_CHANNEL_WEBHOOKS = {
    channel: {
        "url": env.str(f"WORKBENCH_WEBHOOK_{channel.upper()}_URL", default=""),
        "secret": env.str(f"WORKBENCH_WEBHOOK_{channel.upper()}_SECRET", default=""),
    }
    for channel in ("sms", "app_push", "wechat", "ai_bot", "email")
}
for _channel, _adapter in WORKBENCH_CHANNEL_ADAPTERS.items():
    if _adapter not in _CHANNEL_ADAPTER_NAMES:
        raise ImproperlyConfigured(
            f"WORKBENCH_CHANNEL_ADAPTERS: {_channel}={_adapter} names no adapter; one of {_CHANNEL_ADAPTER_NAMES}."
        )
    _hook = WORKBENCH_CHANNEL_WEBHOOKS.get(_channel, {})
    if _adapter == "webhook" and not (_hook.get("url") and _hook.get("secret")):
        raise ImproperlyConfigured(
            f"The {_channel} channel is sent by webhook: set WORKBENCH_WEBHOOK_{_channel.upper()}_URL and _SECRET."
        )
WORKBENCH_WEBHOOK_TIMEOUT_SECONDS = env.float("WORKBENCH_WEBHOOK_TIMEOUT_SECONDS", default=5.0)
# A transient failure (5xx, timeout, SMTP 4xx) is tried again after base × 2^(attempt-1)
# seconds (capped), with jitter; after MAX_ATTEMPTS attempts the message fails.
WORKBENCH_CHANNEL_MAX_ATTEMPTS = env.int("WORKBENCH_CHANNEL_MAX_ATTEMPTS", default=6)
WORKBENCH_CHANNEL_RETRY_BASE_SECONDS = env.float("WORKBENCH_CHANNEL_RETRY_BASE_SECONDS", default=30)
WORKBENCH_CHANNEL_RETRY_MAX_SECONDS = env.float("WORKBENCH_CHANNEL_RETRY_MAX_SECONDS", default=3600)
# A message claimed for sending whose worker has not finished it after this long (the
# worker was killed) is claimed again; the gateway's idempotency key makes that safe.
WORKBENCH_CHANNEL_SENDING_LEASE_SECONDS = env.int("WORKBENCH_CHANNEL_SENDING_LEASE_SECONDS", default=300)
WORKBENCH_CHANNEL_DISPATCH_CHUNK = env.int("WORKBENCH_CHANNEL_DISPATCH_CHUNK", default=500)
WORKBENCH_CHANNEL_DISPATCH_SECONDS = env.float("WORKBENCH_CHANNEL_DISPATCH_SECONDS", default=30)
WORKBENCH_CHANNEL_EMAIL_BACKEND = env.str(
    "WORKBENCH_CHANNEL_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend"
)
WORKBENCH_CHANNEL_EMAIL_FROM = env.str("WORKBENCH_CHANNEL_EMAIL_FROM", default="wealth@bank.example")
# SMTP for the e-mail adapter (Django's own settings).
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
