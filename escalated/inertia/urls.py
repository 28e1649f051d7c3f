"""The support UI's URLs, included by :mod:`escalated.urls` (so under the host's prefix)."""

from django.urls import path

from escalated.inertia import admin, agent, customer, extras, guest
from escalated.inertia.views import routes_json

urlpatterns = [
    path("routes.json", routes_json, name="escalated.routes"),
    *customer.urlpatterns,
    *agent.urlpatterns,
    *guest.urlpatterns,
    *admin.urlpatterns,
    *extras.urlpatterns,
]
