from django.apps import AppConfig


class WatchlistsConfig(AppConfig):
    name = "watchlists"
    verbose_name = "Watchlists and baskets"

    def ready(self) -> None:
        from sigmatrader import back_links

        from . import selectors

        # The order form opened from a list's row leads back to the list, by name.
        back_links.register(
            "watchlists:detail",
            lambda request, kwargs: selectors.list_name(request.user, kwargs.get("watchlist_id")),
        )
