"""Settings for taxservice: every machine-specific value comes from the environment.

Defaults are the embedded setup: a SQLite file under ./var and Celery tasks run
in-process (eager). Production switches only by environment variables:

- DATABASE_URL=postgres://...        use PostgreSQL
- CELERY_BROKER_URL=redis://...      use a real broker and worker
- TAXSERVICE_PRODUCTION=true         hardened settings; DJANGO_SECRET_KEY becomes required
"""

import datetime as dt
from pathlib import Path

from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from taxservice.env import database_from_url, env_bool, env_hours, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("TAXSERVICE_VAR_DIR", str(BASE_DIR / "var")))

PRODUCTION = env_bool("TAXSERVICE_PRODUCTION", False)

# The public development key: only ever used with DEBUG on (docs/security.md).
DEVELOPMENT_SECRET_KEY = "insecure-dev-key-only-for-the-embedded-setup"  # noqa: S105
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when TAXSERVICE_PRODUCTION=true")
    SECRET_KEY = DEVELOPMENT_SECRET_KEY
if PRODUCTION and len(SECRET_KEY) < SECRET_KEY_MIN_LENGTH:
    raise ImproperlyConfigured(
        f"DJANGO_SECRET_KEY must be at least {SECRET_KEY_MIN_LENGTH} characters when TAXSERVICE_PRODUCTION=true"
    )

DEBUG = env_bool("DJANGO_DEBUG", not PRODUCTION)
if not DEBUG and SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_DEBUG is off, so DJANGO_SECRET_KEY must be set: the development key is public")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "axes",  # sign-in lockout after repeated failures (taxservice/signin, docs/security.md)
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our own static files, no CDN
    "django_celery_beat",  # beat's schedule in the database: administrators edit it in the admin
    # The shared core. Tier apps depend on these; these depend on no tier app.
    "taxservice.org",
    "taxservice.changes",  # the generic change log; installs the audit tables' triggers (docs/audit.md)
    "taxservice.workdays",  # the working-day calendar: holidays, 调休, office hours
    "taxservice.grids",  # districts, streets, grids and their service groups; 就近办 service points
    "taxservice.taxpayers",
    "taxservice.catalogue",
    "taxservice.workflow.cases",
    "taxservice.workflow.routing",
    "taxservice.workflow.ladder",  # the escalation ladder: reminder, 催办, 督办, 通报
    "taxservice.workflow.nearby",  # 就近办: door-to-door visits, materials collected at service points
    "taxservice.workflow.quality",  # the closing loop: ratings, return visits, inspection, rectification
    "taxservice.workflow.fieldchecks",  # 实地核查: field checks on a task, with attachments
    "taxservice.demo",  # the demo city behind seed_demo: imports the core, the core never imports it
    "taxservice.api",
    "taxservice.ops",  # health, readiness, /metrics, request ids, the operations page
    "taxservice.signin",  # sign-in trail, lockout page, API tokens and the API rate limit
    "taxservice.idempotency",  # Idempotency-Key on API POSTs: the stored answers (docs/api-robustness.md)
    "taxservice.outbox",  # follow-ups written in the change's transaction, relayed to Celery (docs/outbox-and-webhooks.md)
    "taxservice.webhooks",  # signed webhooks for integrators, delivered through the outbox
    # Tier apps and metrics.
    "frontdesk",
    "middle_office",
    "back_office",
    "grid",
    "metrics",
]

MIDDLEWARE = [
    # First: the request id and log context, the request metrics, and the probes (/healthz,
    # /readyz, /metrics) answered before host checks and sessions (taxservice/ops/middleware.py).
    "taxservice.ops.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "taxservice.middleware.ChosenLanguageMiddleware",
    # /api/: NUL bytes (400) and bodies over TAXSERVICE_API_MAX_BODY_BYTES (413) refused unread.
    "taxservice.api.middleware.ApiInputGuardMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Idempotency-Key on POST /api/v1/: store the first answer, replay it to retries.
    "taxservice.idempotency.middleware.IdempotencyMiddleware",
    # A lost database connection: a read is retried once, a write answers 503 (never 500).
    "taxservice.api.middleware.DatabaseHealthMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",  # the Content-Security-Policy header (CONTENT_SECURITY_POLICY)
    # Last: turns a locked-out sign-in into the lockout page (taxservice/signin/lockout.py).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "taxservice.urls"

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
                "taxservice.web.navigation.staff_navigation",
                "taxservice.web.context_processors.inbox_unread",
            ],
        },
    },
]

WSGI_APPLICATION = "taxservice.wsgi.application"

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'taxservice.sqlite3'}")
DATABASES = {"default": database_from_url(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))}
# A persistent connection (DB_CONN_MAX_AGE) is checked before a request reuses it, so one
# the server dropped is replaced instead of failing the request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for the writer instead of failing with "database is locked" at once.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Sign-in (taxservice/signin, docs/security.md) -------------------------------------------
# django-axes checks every sign-in first: after AXES_FAILURE_LIMIT failures for one account,
# or from one address (each counted on its own), signing in is locked for the cool-off.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("TAXSERVICE_LOCKOUT_FAILURES", 5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("TAXSERVICE_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# A try while locked does not extend the lock: it ends the cool-off after the lock began.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "taxservice.signin.lockout.locked_out"
AXES_CLIENT_IP_CALLABLE = "taxservice.signin.addresses.client_ip"
AXES_SENSITIVE_PARAMETERS = ["password", "csrfmiddlewaretoken"]
AXES_VERBOSE = False
# Reverse proxies in front that append to X-Forwarded-For (the deploy's TLS proxy: 1).
TAXSERVICE_TRUSTED_PROXIES = env_int("TAXSERVICE_TRUSTED_PROXIES", 1 if PRODUCTION else 0)
# A web session ends when the browser closes, and at the latest after a working day.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = env_int("TAXSERVICE_SESSION_HOURS", 10) * 3600
# API tokens: days until a new token expires; requests a minute per token or user.
TAXSERVICE_API_TOKEN_DAYS = env_int("TAXSERVICE_API_TOKEN_DAYS", 90)
TAXSERVICE_API_RATE = env_int("TAXSERVICE_API_RATE", 600)

# Simplified Chinese by default; source strings are English.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Only if present: check --deploy warns (W004) about a missing directory.
STATICFILES_DIRS = [path for path in [BASE_DIR / "static"] if path.is_dir()]
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Uploaded files (field-check attachments) go through Django's storage API into this
# folder. They are never served at MEDIA_URL: only permission-checked views hand them out.
MEDIA_ROOT = Path(env_str("DJANGO_MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"
# The largest field-check attachment accepted, in bytes (10 MB by default).
TAXSERVICE_FIELDCHECK_MAX_BYTES = env_int("TAXSERVICE_FIELDCHECK_MAX_BYTES", 10 * 1024 * 1024)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "taxservice.signin.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Per token, else per user, else per address: TAXSERVICE_API_RATE a minute (429, Retry-After).
    "DEFAULT_THROTTLE_CLASSES": ["taxservice.signin.throttling.ApiRateThrottle"],
    "DEFAULT_PERMISSION_CLASSES": ["taxservice.api.permissions.IsStaff"],
    "DEFAULT_PAGINATION_CLASS": "taxservice.pagination.IdFirstPageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "taxservice.api.errors.exception_handler",
    # JSON bounded in size and depth, no NUL (taxservice/api/parsers.py); forms and uploads as DRF's.
    "DEFAULT_PARSER_CLASSES": [
        "taxservice.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "taxservice API",
    "DESCRIPTION": "Integrated front desk, middle office and back office of a city tax bureau.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["taxservice.api.permissions.IsStaff"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "taxservice.idempotency.schema.document_idempotency_key",  # the Idempotency-Key header on POSTs
        "taxservice.api.schema.document_common_errors",  # 400/401/403/404/413/415/422/429 on every operation
    ],
    "ENUM_NAME_OVERRIDES": {
        "TaskStateEnum": "taxservice.workflow.cases.models.TaskState",
        "CaseStateEnum": "taxservice.workflow.cases.models.Case.State",
        "TeamKindEnum": "taxservice.org.models.Team.Kind",
        "ChannelEnum": "taxservice.workflow.cases.models.Channel",
        "TransitionNameEnum": "taxservice.workflow.cases.transitions.CHOICES",
        "DayKindEnum": "taxservice.workdays.models.DayKind",
        "DaySourceEnum": "taxservice.workdays.selectors.DAY_SOURCES",
        "SourceEnum": "taxservice.workflow.cases.models.Task.Source",  # its name before DaySourceEnum
        "CategoryEnum": "taxservice.taxpayers.models.Category",
        "ServiceGradeEnum": "taxservice.taxpayers.models.ServiceGrade",
        "VisitStateEnum": "taxservice.workflow.nearby.models.Visit.State",
        "CollectionStateEnum": "taxservice.workflow.nearby.models.Collection.State",
        # One name per choice set that a routing rule's `changes` shares with the read shapes.
        "ClassificationEnum": "taxservice.taxpayers.models.Taxpayer.Classification",
        "GradeEnum": "taxservice.taxpayers.models.Taxpayer.Grade",
        "TierEnum": "taxservice.org.models.Tier",
        "ListEnum": "taxservice.catalogue.models.HandlingList",
        "FieldCheckResultEnum": "taxservice.workflow.fieldchecks.models.FieldCheck.Result",
        "ApproveEnum": ["approve"],  # the `approve` transition and the bulk approval's only decision
        "InspectionStateEnum": "taxservice.workflow.quality.models.Inspection.State",
        "VisitChannelEnum": "taxservice.workflow.quality.models.VisitChannel",
        "WebhookEventEnum": "taxservice.webhooks.models.Event",
    },
}

# The cache carries live progress of long jobs (bulk uploads) between requests:
# in-process memory by default, Redis when CACHE_URL=redis://... is set.
CACHE_URL = env_str("CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL.startswith("redis")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "taxservice"}
    )
}

# Celery: in-process by default; a broker URL switches to a real worker.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "memory://")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", CELERY_BROKER_URL == "memory://")
CELERY_TASK_EAGER_PROPAGATES = True
# Loss-free delivery (docs/operations.md, "Celery: nothing lost"): a message is acknowledged
# after its task ran, so a worker killed mid-task has it redelivered (acks_late,
# reject_on_worker_lost); each worker process reserves one message at a time, so a killed
# worker strands at most what it was running (prefetch 1, on every queue: there is one).
# Redis hands an unacknowledged message out again after the visibility timeout: longer than
# the longest task (a bulk upload's hard limit, 16 minutes), or a running task would be sent
# twice. The tasks are idempotent, and beat's sweeps are the backstop.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("TAXSERVICE_BROKER_VISIBILITY_TIMEOUT", 30 * 60)}
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "taxservice")
CELERY_TIMEZONE = TIME_ZONE
# Beat reads its schedule from the database (django-celery-beat), so administrators see and
# edit it in the admin; CELERY_BEAT_SCHEDULE below is written into it when beat starts.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# Dispatch: staff count as available only within these local hours on weekdays, e.g.
# "08:30-17:30". Empty (the embedded default) means: whenever they are on duty. Checked
# here, so a malformed value stops start-up instead of the robot (docs/decisions.md §10).
TAXSERVICE_WORKING_HOURS = env_hours("TAXSERVICE_WORKING_HOURS", "")
# The office hours of a working day: the clocks count working time within them, and a limit
# in working days ends at their close (taxservice/workdays/calendar.py).
TAXSERVICE_OFFICE_HOURS = env_hours("TAXSERVICE_OFFICE_HOURS", "09:00-17:30")
# Long jobs in the embedded setup: "auto" runs them on a background thread; "inline"
# runs them in the request (the tests use it). With a broker they go to the workers.
TAXSERVICE_BACKGROUND_JOBS = env_str("TAXSERVICE_BACKGROUND_JOBS", "auto")
# How many queued tasks one robot claim takes at once.
TAXSERVICE_ROBOT_BATCH = env_int("TAXSERVICE_ROBOT_BATCH", 1000)
# How often Celery beat runs the robot's backlog sweep, in seconds.
TAXSERVICE_ROBOT_SWEEP_SECONDS = env_int("TAXSERVICE_ROBOT_SWEEP_SECONDS", 60)
# How often Celery beat runs the escalation ladder's scan, in seconds.
TAXSERVICE_LADDER_SCAN_SECONDS = env_int("TAXSERVICE_LADDER_SCAN_SECONDS", 300)
# How often Celery beat runs the stuck-upload sweep, in seconds, and after how many minutes
# without progress it restarts or fails an unfinished bulk upload.
TAXSERVICE_UPLOAD_SWEEP_SECONDS = env_int("TAXSERVICE_UPLOAD_SWEEP_SECONDS", 300)
TAXSERVICE_UPLOAD_STALE_MINUTES = env_int("TAXSERVICE_UPLOAD_STALE_MINUTES", 10)
# The outbox (docs/outbox-and-webhooks.md): how often beat relays the waiting messages, how
# many one batch publishes, how long a publisher's claim lasts, how long sent rows are kept.
TAXSERVICE_OUTBOX_RELAY_SECONDS = env_int("TAXSERVICE_OUTBOX_RELAY_SECONDS", 10)
TAXSERVICE_OUTBOX_BATCH = env_int("TAXSERVICE_OUTBOX_BATCH", 100)
TAXSERVICE_OUTBOX_LEASE_SECONDS = env_int("TAXSERVICE_OUTBOX_LEASE_SECONDS", 300)
TAXSERVICE_OUTBOX_RETENTION_DAYS = env_int("TAXSERVICE_OUTBOX_RETENTION_DAYS", 7)
# Webhooks: in production a subscription's URL may not resolve to a private, loopback or
# link-local address unless its host is listed here (comma-separated host names or IPs).
TAXSERVICE_WEBHOOK_ALLOW_HOSTS = env_list("TAXSERVICE_WEBHOOK_ALLOW_HOSTS", [])
TAXSERVICE_WEBHOOK_TIMEOUT_SECONDS = env_int("TAXSERVICE_WEBHOOK_TIMEOUT_SECONDS", 5)
TAXSERVICE_WEBHOOK_MAX_ATTEMPTS = env_int("TAXSERVICE_WEBHOOK_MAX_ATTEMPTS", 8)
CELERY_BEAT_SCHEDULE = {
    "robot-sweep": {
        # scheduling.ROBOT_SWEEP (the settings cannot import it); tests/test_scheduling.py checks.
        "task": "taxservice.routing.tasks.robot_sweep",
        "schedule": TAXSERVICE_ROBOT_SWEEP_SECONDS,
        "kwargs": {"trigger": "sweep"},
    },
    "ladder-scan": {
        # scheduling.LADDER_SCAN: the escalation ladder's scan (idempotent; safe to overlap).
        "task": "taxservice.ladder.tasks.ladder_scan",
        "schedule": TAXSERVICE_LADDER_SCAN_SECONDS,
    },
    "upload-sweep": {
        # scheduling.UPLOAD_SWEEP: restart or fail the bulk uploads stuck without progress.
        "task": "taxservice.routing.tasks.upload_sweep",
        "schedule": TAXSERVICE_UPLOAD_SWEEP_SECONDS,
    },
    "idempotency-purge": {
        # scheduling.IDEMPOTENCY_PURGE: delete the Idempotency-Key records past their 24 hours.
        "task": "taxservice.idempotency.tasks.idempotency_purge",
        "schedule": 3600,
    },
    "outbox-relay": {
        # scheduling.OUTBOX_RELAY: publish the outbox messages the on-commit nudge could not.
        "task": "taxservice.outbox.tasks.relay",
        "schedule": TAXSERVICE_OUTBOX_RELAY_SECONDS,
    },
    "outbox-purge": {
        # scheduling.OUTBOX_PURGE: delete the messages sent TAXSERVICE_OUTBOX_RETENTION_DAYS ago.
        "task": "taxservice.outbox.tasks.purge",
        "schedule": 3600,
    },
    "quality-weekly-sample": {
        # scheduling.INSPECTION_DRAW: last week's quality-inspection sample, Monday 07:00
        # (idempotent: one inspection per week, a rerun returns it).
        "task": "taxservice.quality.tasks.inspection_draw_weekly",
        "schedule": crontab(minute=0, hour=7, day_of_week="mon"),
    },
}

# Every line once, on the root's console handler. Django's own defaults (applied before
# these) give the `django` logger a console handler of its own, and its records then
# propagate to the root's as well: every request warning was printed twice under DEBUG.
# So `django` gets no handler here and only propagates. A 4xx (403, 404, 400, 409) logs its
# one line without the exception's traceback; a 5xx keeps it (taxservice/log.py).
# Every record carries the request id, user id and role of its request or Celery task. In
# production (or LOG_FORMAT=json) each line is one JSON object; in development the message
# alone, as before. Celery's workers use this configuration too (CELERY_WORKER_HIJACK_ROOT_LOGGER).
LOG_FORMAT = env_str("LOG_FORMAT", "json" if PRODUCTION else "text")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured("LOG_FORMAT must be json or text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "client_errors_without_traceback": {"()": "taxservice.log.ClientErrorsWithoutTraceback"},
        "request_context": {"()": "taxservice.log.RequestContextFilter"},
    },
    "formatters": {"json": {"()": "taxservice.log.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["client_errors_without_traceback", "request_context"],
            **({"formatter": "json"} if LOG_FORMAT == "json" else {}),
        },
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": [], "propagate": True},
        # django-axes logs every sign-in attempt at INFO; its failures and lockouts are WARNING.
        "axes": {"level": "WARNING"},
    },
}

if PRODUCTION:
    # gunicorn serves the collected static files itself; runserver's staticfiles app does in development.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    X_FRAME_OPTIONS = "DENY"

# --- Content-Security-Policy (django-csp; docs/security.md) -----------------------------------
# Only the platform's own files: no inline script, no eval (htmx runs with allowEval off,
# base.html), no inline style (bars are CSS classes), no framing. /api/docs/ (Swagger UI)
# alone adds inline styles (taxservice/api/docs.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# --- Operations (taxservice/ops, docs/operations.md) ---------------------------------------
# /metrics: with a token, only "Authorization: Bearer <token>"; without one, open in
# development and refused in production.
TAXSERVICE_METRICS_TOKEN = env_str("TAXSERVICE_METRICS_TOKEN", "")
# One access line per answered request under 400 (a 4xx/5xx is logged once by Django
# already). On in production; runserver prints its own access lines in development.
TAXSERVICE_ACCESS_LOG = env_bool("TAXSERVICE_ACCESS_LOG", LOG_FORMAT == "json")
# Readiness fails while a bulk upload has been unfinished this long (0: never checked).
TAXSERVICE_STUCK_MINUTES = env_int("TAXSERVICE_STUCK_MINUTES", 30)
# How long /readyz waits for the broker, in seconds.
TAXSERVICE_READY_BROKER_TIMEOUT = env_int("TAXSERVICE_READY_BROKER_TIMEOUT", 2)
# Where workers count task outcomes for /metrics: the broker's Redis by default.
TAXSERVICE_TASK_STATS_URL = env_str(
    "TAXSERVICE_TASK_STATS_URL", CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else ""
)
# Workers log through LOGGING above (JSON lines in production) instead of Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Beat writes the sweep's last_run_at after every send (not every 3 minutes), so the
# operations page and beat's healthcheck see it on time: one small write a minute.
CELERY_BEAT_SYNC_EVERY = 1

# --- API robustness (docs/api-robustness.md) -----------------------------------------------
# The largest JSON or form body the API reads, in bytes (413 `body_too_large` above it).
# File uploads (multipart) have their own limits.
TAXSERVICE_API_MAX_BODY_BYTES = env_int("TAXSERVICE_API_MAX_BODY_BYTES", 1024 * 1024)
# Idempotency-Key: how long an answer is replayed; how long a retry waits for the first
# request to finish (then 409); after how long an unfinished first request counts as dead.
TAXSERVICE_IDEMPOTENCY_HOURS = env_int("TAXSERVICE_IDEMPOTENCY_HOURS", 24)
TAXSERVICE_IDEMPOTENCY_WAIT_SECONDS = env_int("TAXSERVICE_IDEMPOTENCY_WAIT_SECONDS", 30)
TAXSERVICE_IDEMPOTENCY_STALE_SECONDS = env_int("TAXSERVICE_IDEMPOTENCY_STALE_SECONDS", 300)
