"""The view runs only for a verified, new delivery (see wsgi.py)."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from webhookverify.wsgi import require_delivery


@csrf_exempt  # the sender proves itself with its signature, not a CSRF token
@require_POST
def github_webhook(request: HttpRequest) -> JsonResponse:
    # Django's META is the WSGI environ. Raises MissingDelivery (a 500) if the
    # middleware does not guard this route, so the view never runs unverified.
    delivery = require_delivery(request.META)
    payload = delivery.json()
    return JsonResponse(
        {
            "event": request.headers.get("X-GitHub-Event"),
            "user": delivery.user,
            "action": payload.get("action"),
        }
    )
