"""Settings for a public deployment behind an HTTPS proxy.

Use with ``DJANGO_SETTINGS_MODULE=fairlight.settings.production``; it refuses
to start without a real ``SECRET_KEY`` and passes ``manage.py check --deploy``.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from fairlight.env import env_bool, env_int, env_mailer
from fairlight.settings import *  # noqa: F403
from fairlight.settings import INSECURE_DEFAULT_SECRET, SECRET_KEY

if SECRET_KEY == INSECURE_DEFAULT_SECRET or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 50 characters in production "
        "(python -c 'import secrets; print(secrets.token_urlsafe(64))')."
    )

DEBUG = False
# A public site sends real mail; the console backend would swallow password resets.
MAILERS = {"default": env_mailer("FAIRLIGHT_EMAIL_BACKEND", "smtp")}
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# The TLS-terminating proxy tells us the original scheme, and the client's address for the
# login rate limit (X-Forwarded-For).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
FAIRLIGHT_BEHIND_PROXY = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
WHITENOISE_USE_FINDERS = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
