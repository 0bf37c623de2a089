from django.urls import path

from . import views

app_name = "brokers"

urlpatterns = [
    path("accounts/new/", views.add_account, name="add"),
    path("accounts/<id:account_id>/edit/", views.edit_account, name="edit"),
    path("accounts/<id:account_id>/connect/", views.connect, name="connect"),
    path("accounts/<id:account_id>/disconnect/", views.disconnect, name="disconnect"),
    path("accounts/<id:account_id>/default/", views.make_default, name="make_default"),
    path("accounts/<id:account_id>/delete/", views.delete_account, name="delete"),
    path("accounts/<id:account_id>/check/", views.check, name="check"),
    path("accounts/<id:account_id>/reset/", views.reset, name="reset"),
    path("accounts/<id:account_id>/funds/", views.funds, name="funds"),
    path("switch/", views.switch, name="switch"),
    # Registered with the broker as the app's redirect URL (e.g. /brokers/zerodha/callback/).
    path("<slug:broker>/callback/", views.callback, name="callback"),
]
