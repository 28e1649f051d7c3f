"""Settings for the test suite.

By default everything runs on SQLite and the in-memory channel layer. CI's second pass sets
ESCALATED_TEST_DB=postgres and ESCALATED_TEST_REDIS=1 to run the same suite on PostgreSQL and
Redis (see .ci/run).
"""

import os

SECRET_KEY = "escalated-tests"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "tests.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "strawberry_django",
    "django_filters",
    "channels",
    "inertia",
    "escalated",
    "demo",  # the demo host project, so its seed command is tested too
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
        "DIRS": [os.path.join(os.path.dirname(__file__), "templates")],
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

if os.environ.get("ESCALATED_TEST_DB") == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": os.environ.get("PGHOST", "127.0.0.1"),
            "PORT": os.environ.get("PGPORT", "5432"),
            "USER": os.environ.get("PGUSER", "postgres"),
            "PASSWORD": os.environ.get("PGPASSWORD", ""),
            "NAME": "test",
            # The test database's name; distinct names let several runs share one server.
            "TEST": {"NAME": os.environ.get("ESCALATED_TEST_DB_NAME", "test_escalated")},
        }
    }
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

if os.environ.get("ESCALATED_TEST_REDIS"):
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {  # a read timeout past channels_redis' 5 s blocking read (escalated.W005)
                        "address": os.environ.get(
                            "ESCALATED_REDIS_URL", "redis://127.0.0.1:6379/0"
                        ),
                        "socket_timeout": 15,
                    }
                ],
                "channel_capacity": {"escalated.hub.*": 100_000},  # see README, "Live queues"
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# pytest-django swaps in the locmem backend for the suite; server processes the tests start
# (uvicorn, workers) read this directly, and must not try a real SMTP server either.
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast for tests only

ESCALATED: dict[str, object] = {}

# The support UI's pages render in this bare layout (tests/templates/escalated_tests/).
INERTIA_LAYOUT = "escalated_tests/layout.html"
