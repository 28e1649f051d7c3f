"""A small host project for `make demo`: SQLite, the in-memory channel layer, GraphiQL on.

Everything the demo writes stays in demo/ (all gitignored): the database, uploads in media/,
every email it sends as a file in mail/, and the demo's API tokens in tokens.json.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
# The port `make demo` serves on (DEMO_PORT=8001 make demo); printed links and emails use it.
DEMO_PORT = int(os.environ.get("DEMO_PORT", "8000"))
DEMO_TOKENS_FILE = BASE_DIR / "tokens.json"

SECRET_KEY = "demo-only-not-secret"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"
ROOT_URLCONF = "demo.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "strawberry_django",
    "django_filters",
    "channels",
    "inertia",
    "escalated",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "escalated.inertia.csrf.CsrfHeaderMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "inertia.middleware.InertiaMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": BASE_DIR / "db.sqlite3",
        # Transactions take the write lock when they begin, so the outbox's sender thread and
        # requests wait for each other instead of failing with "database is locked".
        "OPTIONS": {"transaction_mode": "IMMEDIATE"},
    }
}
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
STATIC_URL = "static/"
MEDIA_ROOT = BASE_DIR / "media"  # attachments (the default storage)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/support/"
LOGOUT_REDIRECT_URL = "login"

# The support pages' layout (demo/templates/escalated_demo/app.html) loads the built frontend.
INERTIA_LAYOUT = "escalated_demo/app.html"

# No mail server needed: each email is a file in demo/mail/.
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = BASE_DIR / "mail"
DEFAULT_FROM_EMAIL = "Escalated demo <help@example.com>"

ESCALATED = {"GRAPHIQL": True, "SITE_URL": f"http://127.0.0.1:{DEMO_PORT}"}

# The support pages' build (demo/frontend/, `make demo-frontend`): Vite writes it to dist/, the
# layout escalated_demo/app.html reads dist/.vite/manifest.json, staticfiles serves the files
# under STATIC_URL + "escalated-demo/" (vite.config.js `base`). Until it is built the pages say so.
DEMO_FRONTEND_DIST = BASE_DIR / "frontend" / "dist"
STATICFILES_DIRS = [("escalated-demo", DEMO_FRONTEND_DIST)] if DEMO_FRONTEND_DIST.is_dir() else []
