
from django.urls import include  # noqa: E402

urlpatterns += [path("", include("notes.urls"))]
