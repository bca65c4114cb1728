"""The view runs only for a verified, new delivery (see wsgi.py)."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from webhookverify.wsgi import get_delivery


@csrf_exempt  # the sender proves itself with its signature, not a CSRF token
@require_POST
def github_webhook(request: HttpRequest) -> JsonResponse:
    delivery = get_delivery(request.META)  # Django's META is the WSGI environ
    if delivery is None:  # reached without the middleware: refuse, never trust
        return JsonResponse({"error": "not verified"}, status=401)
    payload = delivery.json()
    return JsonResponse(
        {
            "event": request.headers.get("X-GitHub-Event"),
            "user": delivery.user,
            "action": payload.get("action"),
        }
    )
