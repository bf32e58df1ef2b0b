"""FAIRlight settings for the embedded default: every value comes from the environment.

``fairlight.settings.production`` builds on this module and turns on what a
public deployment needs (HTTPS-only cookies, HSTS, a mandatory secret key).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from fairlight.env import (
    env_bool,
    env_database,
    env_days,
    env_int,
    env_list,
    env_mailer,
    env_redis_url,
    env_storage_roots,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("FAIRLIGHT_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)  # holds the SQLite file, static files, demo data

DEBUG = env_bool("DEBUG", False)

# The embedded default has no secret to protect beyond the demo; production
# settings refuse to start with this value.
INSECURE_DEFAULT_SECRET = "insecure-fairlight-development-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", INSECURE_DEFAULT_SECRET)
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY is set but empty.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks_db",
    # Ours, lowest layer first (see ARCHITECTURE.md for the import rules).
    "accounts",
    "workers",
    "vocabularies",
    "audit",
    "projects",
    "metadata",
    "repositories",
    "dmp",
    "fairlight",  # composition only: quickstart
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "fairlight.urls"
WSGI_APPLICATION = "fairlight.wsgi.application"
ASGI_APPLICATION = "fairlight.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": env_database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'fairlight.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # Persistent connections outlive a database restart only if each one is checked before it
    # is reused; otherwise a worker's first query after the restart fails (tests/metadata/
    # test_faults_scan.py).
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
# WhiteNoise warns about a missing STATIC_ROOT even when it serves from the finders.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The embedded default serves static files straight from the source folders,
# so quickstart needs no collectstatic step; production collects and hashes them.
WHITENOISE_USE_FINDERS = True

# Strict policy: no inline scripts or styles anywhere; scripts carry a nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True

# Login rate limiting (accounts/rate_limit.py) counts failed logins in the cache: in process
# memory by default; a site with several web processes or hosts shares Redis instead.
_CACHE_URL = env_str("FAIRLIGHT_CACHE_URL", "")
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env_redis_url("FAIRLIGHT_CACHE_URL", ""),
            "KEY_PREFIX": "fairlight",
        }
        if _CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Behind a proxy, every request comes from the proxy: the client is the last X-Forwarded-For entry.
FAIRLIGHT_BEHIND_PROXY = False

# Email: the console backend prints messages (password resets, invitations) to
# the terminal of the process that sends them, which suits the embedded default.
MAILERS = {"default": env_mailer("FAIRLIGHT_EMAIL_BACKEND", "console")}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "FAIRlight <fairlight@localhost>")

# Background tasks (django.tasks). The database backend needs no extra service; "redis"
# (or "rq") queues tasks on Redis for RQ workers on several machines (workers/rq_backend.py);
# "immediate" runs tasks inside the request, which only suits debugging.
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "redis": "workers.rq_backend.RQBackend",
    "rq": "workers.rq_backend.RQBackend",
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
}
_task_choice = env_str("FAIRLIGHT_TASK_BACKEND", "database")
if _task_choice not in _TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"FAIRLIGHT_TASK_BACKEND={_task_choice!r} must be one of {', '.join(_TASK_BACKENDS)}."
    )
TASKS: dict[str, dict[str, Any]] = {"default": {"BACKEND": _TASK_BACKENDS[_task_choice]}}
if _TASK_BACKENDS[_task_choice].startswith("workers."):
    TASKS["default"]["OPTIONS"] = {
        "URL": env_redis_url("FAIRLIGHT_REDIS_URL", "redis://127.0.0.1:6379/0"),
        # RQ queues are named PREFIX:QUEUE, so several sites or test runs can share one Redis.
        "QUEUE_PREFIX": env_str("FAIRLIGHT_REDIS_QUEUE_PREFIX", "fairlight"),
    }

# A scan is split into chunks of at most this many files, which workers share.
FAIRLIGHT_SCAN_CHUNK_FILES = env_int("FAIRLIGHT_SCAN_CHUNK_FILES", 200, minimum=1)

# Folders on facility storage that datasets may live under (NAME=/path,...).
# Without the variable, the embedded default gets one demo folder under var/.
_DEFAULT_STORAGE = VAR_DIR / "storage" / "demo"
if env_str("FAIRLIGHT_STORAGE_ROOTS", "") == "":
    _DEFAULT_STORAGE.mkdir(parents=True, exist_ok=True)
FAIRLIGHT_STORAGE_ROOTS = env_storage_roots("FAIRLIGHT_STORAGE_ROOTS", f"demo={_DEFAULT_STORAGE}")

# Browser uploads go into this storage root (by name); empty disables them. The embedded
# default uses its demo folder; a site names a root meant for small uploads.
FAIRLIGHT_UPLOAD_ROOT = env_str(
    "FAIRLIGHT_UPLOAD_ROOT", "demo" if any(r.name == "demo" for r in FAIRLIGHT_STORAGE_ROOTS) else ""
)
FAIRLIGHT_UPLOAD_MAX_BYTES = env_int("FAIRLIGHT_UPLOAD_MAX_BYTES", 2 * 1024**3, minimum=1)
# A browser upload may carry many files; each one is streamed to a temporary file.
DATA_UPLOAD_MAX_NUMBER_FILES = env_int("FAIRLIGHT_UPLOAD_MAX_FILES", 1000, minimum=1)

# Invitations to join a project stay valid this many days.
FAIRLIGHT_INVITATION_DAYS = env_int("FAIRLIGHT_INVITATION_DAYS", 14, minimum=1)

# Owners and managers are reminded of a release this many days before it (empty: no reminders).
FAIRLIGHT_EMBARGO_REMINDER_DAYS = env_days("FAIRLIGHT_EMBARGO_REMINDER_DAYS", "30,7,1")

REST_FRAMEWORK = {
    # Token first, so unauthenticated requests get 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "fairlight.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "FAIRlight API",
    "DESCRIPTION": "Plan, describe and publish bioimaging data.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "fairlight.openapi.document_error_responses",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
FAIRLIGHT_ALLOW_SIGNUP = env_bool("FAIRLIGHT_ALLOW_SIGNUP", True)
FAIRLIGHT_BASE_URL = env_str("FAIRLIGHT_BASE_URL", "http://127.0.0.1:8000")

# Zenodo (InvenioRDM) for repository submissions: the sandbox until a site chooses
# https://zenodo.org; the token is a personal access token with deposit:write and deposit:actions.
FAIRLIGHT_ZENODO_URL = env_url("FAIRLIGHT_ZENODO_URL", "https://sandbox.zenodo.org")
FAIRLIGHT_ZENODO_TOKEN = env_str("FAIRLIGHT_ZENODO_TOKEN", "")
