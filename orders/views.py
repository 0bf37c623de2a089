from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def queue(request):
    return render(request, "orders/queue.html")


@require_GET
def order_list(request):
    return render(request, "orders/orders.html")


@require_GET
def alerts(request):
    return render(request, "orders/alerts.html")
