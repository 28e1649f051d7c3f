"""URLs of the 0.7.8 host project: the package's own, under /support/ (as its README mounts it)."""

from django.urls import include, path

urlpatterns = [path("support/", include("escalated.urls"))]
