from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("settings/", views.save, name="save"),
    path("telegram/link/", views.link_telegram, name="link-telegram"),
    path("telegram/unlink/", views.unlink_telegram, name="unlink-telegram"),
    path("test/<str:channel>/", views.send_test, name="test"),
]
