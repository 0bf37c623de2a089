from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sigmatrader.net import client_ip

from . import webhook


@csrf_exempt  # TradingView cannot send a CSRF token; the secret token in the URL is the key
@login_not_required
@require_POST
def tradingview(request: HttpRequest, token: str) -> HttpResponse:
    try:
        body = request.body
    except RequestDataTooBig:
        return JsonResponse({"error": "The body is too large."}, status=413)
    status, payload = webhook.receive(token=token, body=body, ip=client_ip(request))
    response = JsonResponse(payload, status=status)
    if status == 503:
        response["Retry-After"] = str(webhook.RETRY_AFTER_SECONDS)
    return response
