from django.urls import path

from . import views

app_name = "alerts"

urlpatterns = [
    path("", views.rule_list, name="list"),
    path("new/", views.rule_new, name="new"),
    path("test/", views.rule_test, name="test"),
    path("symbols/", views.symbol_search, name="symbol-search"),
    path("notifications/read/", views.notifications_read, name="notifications-read"),
    path("<id:rule_id>/edit/", views.rule_edit, name="edit"),
    path("<id:rule_id>/toggle/", views.rule_toggle, name="toggle"),
    path("<id:rule_id>/delete/", views.rule_delete, name="delete"),
    path("<id:rule_id>/events/", views.rule_events, name="events"),
    path("screener/", views.screener_page, name="screener"),
    path("screener/<id:run_id>/", views.screener_run, name="screener-run"),
    path("screener/<id:run_id>/rerun/", views.screener_rerun, name="screener-rerun"),
    path("screener/<id:run_id>/save/", views.screener_save, name="screener-save"),
    path("screener/<id:run_id>/fetch/", views.screener_fetch, name="screener-fetch"),
]
