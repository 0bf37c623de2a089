from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, register_converter

from alerts import live_views as alert_live_views
from orders import live_views as order_live_views
from orders.webhook_views import tradingview
from portfolio import live_views as portfolio_live_views
from portfolio.views import home
from protection import live_views as protection_live_views
from watchlists import views as watchlist_views

from . import security_views, views
from .auth_views import SignInView, SignOutView
from .params import IdConverter

# `<id:...>`: an id the database can hold; a 26-digit id is a 404, not an overflow.
register_converter(IdConverter, "id")

urlpatterns = [
    path("", home, name="dashboard"),
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/logout/", SignOutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("events/", views.events, name="events"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/security/", security_views.security, name="security"),
    path(
        "settings/security/two-factor/start/",
        security_views.two_factor_start,
        name="two-factor-start",
    ),
    path(
        "settings/security/two-factor/confirm/",
        security_views.two_factor_confirm,
        name="two-factor-confirm",
    ),
    path(
        "settings/security/two-factor/disable/",
        security_views.two_factor_disable,
        name="two-factor-disable",
    ),
    path("healthz", views.healthz, name="healthz"),
    path("live/orders/", order_live_views.live_orders, name="live-orders"),
    path("live/portfolio/<str:kind>/", portfolio_live_views.live_portfolio, name="live-portfolio"),
    path("live/dashboard/", portfolio_live_views.live_dashboard, name="live-dashboard"),
    path("live/toasts/", order_live_views.live_toasts, name="live-toasts"),
    path(
        "live/watchlists/<id:watchlist_id>/",
        watchlist_views.live_watchlist,
        name="live-watchlist",
    ),
    path("live/alerts/", alert_live_views.live_alerts, name="live-alerts"),
    path("live/halts/", protection_live_views.live_halts, name="live-halts"),
    path("live/day-pnl/", protection_live_views.live_day_pnl, name="live-day-pnl"),
    path("brokers/", include("brokers.urls")),
    path("marketdata/", include("marketdata.urls")),
    path("alerts/", include("alerts.urls")),
    path("protection/", include("protection.urls")),
    path("notifications/", include("notifications.urls")),
    path("trades/", include("trades.urls")),
    path("webhooks/tradingview/<str:token>/", tradingview, name="tradingview-webhook"),
    path("", include("orders.urls")),
    path("", include("portfolio.urls")),
    path("watchlists/", include("watchlists.urls")),
    path("admin/", admin.site.urls),
]

# A refused request (too large a form, among others) gets a page that says why.
handler400 = "sigmatrader.views.bad_request"
