from django.urls import path

from . import strategy_views, views

app_name = "orders"

urlpatterns = [
    path("queue/", views.queue_page, name="queue"),
    path("queue/form/", views.order_form, name="queue-form"),
    path("queue/new/", views.new_order, name="queue-new"),
    path("queue/bulk/", views.bulk, name="queue-bulk"),
    path("queue/<id:order_id>/", views.queue_row, name="queue-row"),
    path("queue/<id:order_id>/edit/", views.edit_order, name="queue-edit"),
    path("queue/<id:order_id>/execute/", views.execute_order, name="queue-execute"),
    path("queue/<id:order_id>/cancel/", views.cancel_order, name="queue-cancel"),
    path("queue/<id:order_id>/preview/", views.order_preview, name="queue-preview"),
    path("orders/", views.order_list, name="orders"),
    path("orders/<id:order_id>/events/", views.order_events, name="order-events"),
    path("orders/<id:order_id>/modify/", views.modify_order, name="order-modify"),
    path("orders/<id:order_id>/cancel/", views.cancel_live, name="order-cancel"),
    path("orders/sync/<id:account_id>/", views.sync_now, name="sync"),
    path("settings/risk/", views.save_risk_policy, name="risk-policy"),
    # The TradingView webhook delivery log (formerly "Alerts"; Alerts are alert rules now).
    path("webhook-log/", strategy_views.alerts, name="alerts"),
    path("settings/webhook/rotate/", strategy_views.rotate_token, name="webhook-rotate"),
    path("settings/webhook/secret/", strategy_views.save_secret, name="webhook-secret"),
    path("settings/strategies/new/", strategy_views.create_strategy, name="strategy-new"),
    path(
        "settings/strategies/<id:strategy_id>/", strategy_views.edit_strategy, name="strategy-edit"
    ),
    path(
        "settings/strategies/<id:strategy_id>/toggle/",
        strategy_views.toggle_strategy,
        name="strategy-toggle",
    ),
]
