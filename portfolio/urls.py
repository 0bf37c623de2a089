from django.urls import path

from . import views

app_name = "portfolio"

urlpatterns = [
    path("holdings/", views.holdings, name="holdings"),
    path("holdings/trade/", views.trade, name="holdings-trade"),
    path("holdings/history/", views.history, name="holdings-history"),
    path("positions/", views.positions, name="positions"),
    path("positions/<id:position_id>/square-off/", views.square_off, name="square-off"),
    path("portfolio/refresh/<id:account_id>/", views.refresh, name="refresh"),
]
