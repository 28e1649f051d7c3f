"""Host project for this repository's Escalated, our side of bench/peers/run.py.

Built like settings_078.py (sessions, CSRF, Inertia's middleware, the package's default
settings, PostgreSQL, mail to the in-memory backend), plus what this version needs installed:
strawberry-django, django-filter and channels (in-memory layer: one server, no Redis).
"""

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent

SECRET_KEY = "bench-peers-ours"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "bench.peers.urls_ours"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "strawberry_django",
    "django_filters",
    "channels",
    "inertia",
    "escalated",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "escalated.inertia.csrf.CsrfHeaderMiddleware",
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
        "NAME": os.environ.get("BENCH_PEER_DB", "bench_15_peer_ours"),
    }
}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "ERROR"}}

# The package's defaults; BENCH_PEER_DELIVERY (say "worker") overrides OUTBOX["DELIVERY"], to
# see what the outbox's sender costs the requests beside it.
ESCALATED: dict[str, object] = (
    {"OUTBOX": {"DELIVERY": os.environ["BENCH_PEER_DELIVERY"]}}
    if os.environ.get("BENCH_PEER_DELIVERY")
    else {}
)

INERTIA_LAYOUT = "peers_layout.html"
INERTIA_VERSION = "1.0"
