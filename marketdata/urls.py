from django.urls import path

from . import views

app_name = "marketdata"

urlpatterns = [
    path("instruments/search/", views.search, name="search"),
    path("instruments/status/", views.instruments_card, name="instruments"),
    path("instruments/<slug:broker>/refresh/", views.refresh_now, name="refresh"),
]
