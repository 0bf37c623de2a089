from django.urls import path

from . import views

app_name = "protection"

urlpatterns = [
    path("<id:order_id>/change/", views.change, name="change"),
    path("<id:order_id>/cancel/", views.cancel, name="cancel"),
]
