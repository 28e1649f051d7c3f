"""Escalated's URLs. Mount them under the host's prefix::

path("support/", include("escalated.urls"))
"""

from django.urls import path

from escalated.graphql.schema import schema
from escalated.graphql.views import EscalatedGraphQLView
from escalated.hosted.webhook import cloud_webhook
from escalated.hub import receive
from escalated.views import attachment_download, form_mutation

app_name = "escalated"

urlpatterns = [
    path("graphql/", EscalatedGraphQLView.as_view(schema=schema), name="graphql"),
    path("attachments/<int:pk>/", attachment_download, name="attachment_download"),
    path("forms/<slug:name>/", form_mutation, name="form"),
    # Synced mode: the hub's changes come back here.
    path("cloud/webhook/", cloud_webhook, name="cloud_webhook"),
    # The hub role: sites push their events here ({HOSTED_API_URL}/events).
    path("hub/api/v1/events", receive.events, name="hub_events"),
]
