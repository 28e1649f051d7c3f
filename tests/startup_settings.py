"""Settings for processes that only start up (uvicorn, manage.py check) to show what start-up
says about a configuration: the test settings, with ESCALATED taken from the environment and
CHANNEL_LAYERS left out on request."""

import json
import os

from tests.settings import *  # noqa: F403

ESCALATED = json.loads(os.environ.get("ESCALATED_STARTUP_SETTINGS", "{}"))
if os.environ.get("ESCALATED_STARTUP_NO_CHANNEL_LAYERS"):
    del CHANNEL_LAYERS  # noqa: F821
