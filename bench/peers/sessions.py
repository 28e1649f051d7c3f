"""Signs people in without a login form, on either side: run by bench/peers/run.py with a
side's interpreter and DJANGO_SETTINGS_MODULE; prints {username: session key} as JSON.

Uses only Django's own session and auth keys, so the same file works for both versions.
"""

import json
import sys

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import (  # noqa: E402
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
)
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402

keys = {}
for username in sys.argv[1:]:
    user = get_user_model().objects.get(username=username)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    keys[username] = session.session_key
print(json.dumps(keys))
