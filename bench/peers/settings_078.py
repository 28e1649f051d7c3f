"""Host project for escalated-django 0.7.8 (from PyPI), the peer side of bench/peers/run.py.

Loaded only by the interpreter of bench/peers/.venv-078 (run.py makes it): 0.7.8 and this
repository are both imported as ``escalated``. A plain self-hosted install as 0.7.8's README
describes it: sessions, CSRF, Inertia's middleware, the package's default settings, on
PostgreSQL. Mail goes to Django's in-memory backend, as on our side.
"""

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent

SECRET_KEY = "bench-peers-078"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "urls_078"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "inertia",
    "escalated",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "inertia.middleware.InertiaMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [str(HERE / "templates")],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ]
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": os.environ.get("PGHOST", "127.0.0.1"),
        "PORT": os.environ.get("PGPORT", "5432"),
        "USER": os.environ.get("PGUSER", "postgres"),
        # 0 (Django's default): a new connection per request; run.py --conn-max-age sets both.
        "CONN_MAX_AGE": int(os.environ.get("BENCH_PEER_CONN_MAX_AGE", "0")),
        "NAME": os.environ.get("BENCH_PEER_DB", "bench_15_peer_078"),
    }
}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "ERROR"}}

ESCALATED = {"MODE": "self_hosted", "TABLE_PREFIX": "escalated_"}

INERTIA_LAYOUT = "peers_layout.html"
INERTIA_VERSION = "1.0"
