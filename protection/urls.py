from django.urls import path

from . import exit_views, views

app_name = "protection"

urlpatterns = [
    path("settings/loss-limit/", views.save_limit, name="save-limit"),
    path("settings/loss-limit/<int:limit_id>/delete/", views.delete_limit, name="delete-limit"),
    path("kill-switch/", views.kill_switch, name="kill-switch"),
    path("halts/", views.halts_page, name="halts"),
    path("halts/<int:halt_id>/release/", views.release, name="release"),
    path("halts/<int:halt_id>/retry/", views.retry, name="retry"),
    path("<id:order_id>/change/", exit_views.change, name="change"),
    path("<id:order_id>/cancel/", exit_views.cancel, name="cancel"),
]
