"""Escalated's URLs. Mount them under the host's prefix::

path("support/", include("escalated.urls"))
"""

from django.urls import path

from escalated.graphql.schema import schema
from escalated.graphql.views import EscalatedGraphQLView

app_name = "escalated"

urlpatterns = [
    path("graphql/", EscalatedGraphQLView.as_view(schema=schema), name="graphql"),
]
