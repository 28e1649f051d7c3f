"""URLs of our host project: Escalated under /support/, as on the 0.7.8 side."""

from django.urls import include, path

urlpatterns = [path("support/", include("escalated.urls"))]
