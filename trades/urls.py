from django.urls import path

from . import views

app_name = "trades"

urlpatterns = [
    path("", views.trade_list, name="list"),
    path("pnl/", views.pnl, name="pnl"),
    path("pnl/export.<str:fmt>", views.export, name="export"),
    path("import/", views.import_upload, name="import"),
    path("import/<id:pending_id>/", views.import_preview, name="import-preview"),
    path("missed/no-trades/", views.mark_no_trades, name="mark-no-trades"),
    path("adjustments/", views.adjustments, name="adjustments"),
    path("opening-lots/<id:lot_id>/", views.opening_lot, name="opening-lot"),
    path(
        "adjustments/<id:adjustment_id>/delete/", views.adjustment_delete, name="adjustment-delete"
    ),
]
