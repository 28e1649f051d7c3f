from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(url="/support/graphql/")),
    path("admin/", admin.site.urls),
    path("support/", include("escalated.urls")),
]
