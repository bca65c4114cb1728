"""The senders this site accepts, and the receiver that checks them."""

from django.conf import settings

from webhookverify import Handler, HandlerRegistry, Receiver, presets

# GitHub signs the raw body with HMAC-SHA256: X-Hub-Signature-256: sha256=<hex>
github = presets.github(secret=settings.GITHUB_WEBHOOK_SECRET)
receiver = Receiver(HandlerRegistry([Handler("github", github, user="ci-bot")]))
