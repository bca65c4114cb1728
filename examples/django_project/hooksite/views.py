"""The view runs only for a verified, new delivery: webhook_view verifies it first."""

from django.http import HttpRequest, JsonResponse

from webhookverify import Delivery
from webhookverify.django import webhook_view

from .webhooks import receiver


# CSRF-exempt and POST-only: the sender proves itself with its signature. A
# tampered request gets 401, a replay 200, and neither runs the view; an
# answer other than 2xx (or a raise) lets GitHub's redelivery run it again.
@webhook_view(receiver)
def github_webhook(request: HttpRequest, delivery: Delivery) -> JsonResponse:
    payload = delivery.json()
    return JsonResponse(
        {
            "event": request.headers.get("X-GitHub-Event"),
            "user": delivery.user,
            "action": payload.get("action"),
        }
    )
