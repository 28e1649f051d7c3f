"""Escalated's URLs. Mount them under the host's prefix::

path("support/", include("escalated.urls"))
"""

from django.urls import include, path

from escalated.graphql.schema import schema
from escalated.graphql.views import EscalatedGraphQLView
from escalated.views import attachment_download, form_mutation

app_name = "escalated"

urlpatterns = [
    path("graphql/", EscalatedGraphQLView.as_view(schema=schema), name="graphql"),
    path("attachments/<int:pk>/", attachment_download, name="attachment_download"),
    path("forms/<slug:name>/", form_mutation, name="form"),
    # The route table names this one for AttachmentList's route('escalated.attachments.download').
    path("attachments/<int:pk>/", attachment_download, name="escalated.attachments.download"),
    path("", include("escalated.inertia.urls")),
]
