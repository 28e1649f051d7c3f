"""Escalated's URLs. Mount them under the host's prefix::

path("support/", include("escalated.urls"))
"""

from django.urls import include, path

from escalated.graphql.graphiql import graphiql_asset
from escalated.graphql.schema import schema
from escalated.graphql.views import EscalatedGraphQLView
from escalated.hosted.webhook import cloud_webhook
from escalated.hub import receive
from escalated.mail import webhooks as inbound_webhooks
from escalated.views import attachment_download, form_mutation

app_name = "escalated"

urlpatterns = [
    path("graphql/", EscalatedGraphQLView.as_view(schema=schema), name="graphql"),
    path("graphql/assets/<str:name>", graphiql_asset, name="graphiql_asset"),
    path("attachments/<int:pk>/", attachment_download, name="attachment_download"),
    path("forms/<slug:name>/", form_mutation, name="form"),
    path("inbound/mailgun/", inbound_webhooks.mailgun, name="inbound_mailgun"),
    path("inbound/postmark/", inbound_webhooks.postmark, name="inbound_postmark"),
    path("inbound/ses/", inbound_webhooks.ses, name="inbound_ses"),
    # Synced mode: the hub's changes come back here.
    path("cloud/webhook/", cloud_webhook, name="cloud_webhook"),
    # The hub role: sites push their events here ({HOSTED_API_URL}/events).
    path("hub/api/v1/events", receive.events, name="hub_events"),
    # The hub role: cloud-mode sites forward operations here ({HOSTED_API_URL}/graphql).
    path("hub/api/v1/graphql", EscalatedGraphQLView.as_view(schema=schema), name="hub_graphql"),
    path("hub/api/v1/attachments/<int:pk>/", attachment_download, name="hub_attachment_download"),
    # The route table names this one for AttachmentList's route('escalated.attachments.download').
    path("attachments/<int:pk>/", attachment_download, name="escalated.attachments.download"),
    path("", include("escalated.inertia.urls")),
]
