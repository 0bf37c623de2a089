from django.urls import path

from . import views

app_name = "watchlists"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.create, name="create"),
    path("import/", views.import_list, name="import"),
    path("<id:watchlist_id>/", views.detail, name="detail"),
    path("<id:watchlist_id>/edit/", views.edit, name="edit"),
    path("<id:watchlist_id>/delete/", views.delete, name="delete"),
    path("<id:watchlist_id>/duplicate/", views.duplicate, name="duplicate"),
    path("<id:watchlist_id>/basket/", views.basket, name="basket"),
    path("<id:watchlist_id>/export.<str:fmt>", views.export, name="export"),
    path("<id:watchlist_id>/members/add/", views.add_member, name="add"),
    path("<id:watchlist_id>/members/<id:member_id>/remove/", views.remove_member, name="remove"),
    path("<id:watchlist_id>/members/<id:member_id>/move/", views.move_member, name="move"),
    path("<id:watchlist_id>/members/<id:member_id>/edit/", views.edit_member, name="member-edit"),
]
