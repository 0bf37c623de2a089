app_name = "trades"

urlpatterns: list = []
