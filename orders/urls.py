from django.urls import path

from . import views

urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("orders/", views.order_list, name="orders"),
    path("alerts/", views.alerts, name="alerts"),
]
