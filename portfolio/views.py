from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def holdings(request):
    return render(request, "portfolio/holdings.html")


@require_GET
def positions(request):
    return render(request, "portfolio/positions.html")
