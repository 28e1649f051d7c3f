"""A host that mounts the helpdesk under /help/ instead of /support/."""

from django.contrib.auth.views import LoginView
from django.urls import include, path

urlpatterns = [
    path("signin/", LoginView.as_view(), name="login"),
    path("help/", include("escalated.urls")),
]
